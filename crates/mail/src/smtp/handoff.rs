//! Sends waiting for a connection, which a transaction about to end may take on: it
//! writes the waiting send's MAIL, RCPT and DATA right after its own content (RFC 2920
//! §3.1 lets content open a group of pipelined commands) and hands the connection over
//! once its own final reply is in. On a busy connection a message then costs one round
//! trip instead of two.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use lettre::Address;
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use super::connection::{Connection, Envelope};

/// A connection passed to the send its last write opened a transaction for: that send's
/// envelope is on the wire, its replies unread.
pub(crate) struct Handoff {
    pub(crate) connection: Connection,
    pub(crate) permit: OwnedSemaphorePermit,
    pub(crate) envelope: Envelope,
}

/// What a waiting send is given: a connection, or `None` when the connection its envelope
/// went out on broke first (nothing of its message was taken: it tries again).
type Handed = Option<Box<Handoff>>;

/// One send in line.
pub(crate) struct Waiter {
    from: Address,
    to: Address,
    eight_bit: bool,
    /// Taken by whoever settles the waiter first: a transaction taking it on, or the send
    /// itself when it got a connection of its own.
    sender: Mutex<Option<oneshot::Sender<Handed>>>,
}

/// The sends of one relay waiting for a connection, oldest first.
#[derive(Default)]
pub(crate) struct WaitingSends {
    queue: Mutex<VecDeque<Arc<Waiter>>>,
}

/// A waiting send a transaction took on: it must be given the connection or told to
/// try again.
pub(crate) struct Promise {
    sender: oneshot::Sender<Handed>,
}

impl WaitingSends {
    /// Puts a send in line; its handoff arrives on the receiver.
    pub(crate) fn join(
        &self,
        from: &Address,
        to: &Address,
        eight_bit: bool,
    ) -> (Arc<Waiter>, oneshot::Receiver<Handed>) {
        let (sender, receiver) = oneshot::channel();
        let waiter = Arc::new(Waiter {
            from: from.clone(),
            to: to.clone(),
            eight_bit,
            sender: Mutex::new(Some(sender)),
        });
        self.lock().push_back(Arc::clone(&waiter));
        (waiter, receiver)
    }

    /// Takes the send out of line, unless a transaction has taken it on already (its
    /// handoff is then coming and must be awaited).
    pub(crate) fn leave(&self, waiter: &Arc<Waiter>) -> bool {
        let left = lock(&waiter.sender).take().is_some();
        if left {
            self.lock().retain(|other| !Arc::ptr_eq(other, waiter));
        }
        left
    }

    /// Takes on the oldest waiting send, if `connection` can carry its message: returns
    /// the promise to keep and the envelope to write after the current content.
    pub(crate) fn take_on(&self, connection: &Connection) -> Option<(Promise, Envelope)> {
        let mut queue = self.lock();
        while let Some(waiter) = queue.front() {
            // A message this connection cannot carry waits for one of its own, which
            // tells it why.
            let envelope = connection
                .envelope(&waiter.from, &waiter.to, waiter.eight_bit)
                .ok()?;
            let sender = lock(&waiter.sender).take();
            queue.pop_front();
            match sender {
                Some(sender) if !sender.is_closed() => return Some((Promise { sender }, envelope)),
                // It left, or its send was dropped: the next one.
                _ => continue,
            }
        }
        None
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<Arc<Waiter>>> {
        lock(&self.queue)
    }
}

impl Promise {
    /// Gives the connection to the send; if that send is gone, the connection closes
    /// (its transaction, open at DATA, is dropped by the server).
    pub(crate) fn keep(self, handoff: Handoff) {
        let _ = self.sender.send(Some(Box::new(handoff)));
    }

    /// Tells the send its envelope was lost with the connection.
    pub(crate) fn retry(self) {
        let _ = self.sender.send(None);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
