//! `herald crm import`: the real binary against a real database, on both backends.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use herald_domain::crm::{CrmObject, TargetRef};
use herald_domain::email_address::EmailAddress;
use herald_domain::mid::Mid;
use herald_store::{CampaignDefinition, Campaigns, Slice, Store, StoredRecord};
use herald_test_support::{Db, TestDatabase, backend_tests, temp_dir};
use serde_json::Value;
use time::OffsetDateTime;

struct Harness {
    db: TestDatabase,
    dir: PathBuf,
    store: Arc<dyn Store>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn setup(db: Db) -> Option<Harness> {
    let db = TestDatabase::create(db).await?;
    let store = herald_store::open(&db.url).await.expect("open store");
    Some(Harness {
        db,
        dir: temp_dir("herald-import"),
        store,
    })
}

const MID: Mid = Mid::from_stored(100_000_001);
const ALL: Slice = Slice {
    offset: 0,
    limit: 1000,
};

impl Harness {
    /// Writes `name` in the test's folder.
    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// Runs `herald` with `args` against the test database.
    async fn herald(&self, args: &[&str]) -> Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
            .env_clear()
            .env("HERALD_DATA_DIR", &self.dir)
            .env("HERALD_DATABASE_URL", &self.db.url)
            .env("HERALD_LOG", "warn")
            .args(args)
            .output()
            .await
            .unwrap()
    }

    /// Imports `file` as contacts with `--json` and the extra `args`.
    async fn import(&self, file: &Path, args: &[&str]) -> (Option<i32>, Value) {
        let mut all = vec!["crm", "import", "contacts", path(file), "--json"];
        all.extend(args);
        let output = self.herald(&all).await;
        let summary = serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not one JSON object ({err}): {}\nstderr: {}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )
        });
        (output.status.code(), summary)
    }

    async fn contacts(&self) -> Vec<StoredRecord> {
        self.store
            .list_records(MID, CrmObject::Contact, None, ALL)
            .await
            .unwrap()
            .items
    }

    async fn contact(&self, email: &str) -> StoredRecord {
        let email = EmailAddress::parse(email).unwrap();
        let mut found = self
            .store
            .list_records(MID, CrmObject::Contact, Some(&email), ALL)
            .await
            .unwrap()
            .items;
        assert_eq!(found.len(), 1, "one contact has {email}");
        found.remove(0)
    }
}

fn path(file: &Path) -> &str {
    file.to_str().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `(line, reason)` of each listed reject.
fn rejects(summary: &Value) -> Vec<(u64, String)> {
    summary["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|reject| {
            (
                reject["line"].as_u64().unwrap(),
                reject["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn a_good_file_creates_every_row_and_exits_zero(h: Harness) {
    let file = h.file(
        "good.csv",
        b"email,FirstName,LASTNAME,HasOptedOutOfEmail,ExternalId,Company__c\r\n\
          ann@example.com,Ann,Lee,false,A-1,Acme\r\n\
          bob@example.com,Bob,,TRUE,,\"Globex, Inc.\"\r\n\
          cy@example.com,\"Cy \"\"CJ\"\"\",Ng,0,C-3,\r\n",
    );
    let (status, summary) = h.import(&file, &[]).await;
    assert_eq!(status, Some(0), "{summary}");
    assert_eq!(summary["object"], "Contact");
    assert_eq!(summary["account_id"], MID.get());
    assert_eq!(summary["match_on"], "Email");
    assert_eq!(summary["rows_read"], 3);
    assert_eq!(summary["created"], 3);
    assert_eq!(summary["updated"], 0);
    assert_eq!(summary["rejected"], 0);
    assert_eq!(summary["rejects"], Value::Array(vec![]));
    let ann = h.contact("ann@example.com").await.record;
    assert_eq!(ann.last_name.as_deref(), Some("Lee"));
    assert_eq!(ann.external_id.as_deref(), Some("A-1"));
    assert_eq!(ann.custom["Company__c"], "Acme");
    let bob = h.contact("bob@example.com").await.record;
    assert!(bob.has_opted_out);
    assert_eq!(bob.last_name, None);
    assert_eq!(bob.custom["Company__c"], "Globex, Inc.");
    let cy = h.contact("cy@example.com").await.record;
    assert_eq!(cy.first_name.as_deref(), Some("Cy \"CJ\""));
    assert!(!cy.custom.contains_key("Company__c"));
}

async fn bad_rows_are_rejected_with_their_lines_and_only_good_rows_go_in(h: Harness) {
    let file = h.file(
        "mixed.csv",
        b"Email,FirstName,LastName\n\
          ann@example.com,Ann,Lee\n\
          bob@localhost,Bob,Ray\n\
          ,Cy,NoEmail\n\
          dee@example.com,D\xe9e,Latin1\n\
          \n\
          eve@example.com,Eve\n\
          fay@example.com,Fay,Fox,extra\n\
          \"gus@example.com,Gus,Gray\n\
          hal@example.com,Hal,\"Hill\n\
          ivy@example.com,Ivy,Ivey\n\
          ann@EXAMPLE.com,Ann,Again\n\
          jo@example.com,Jo,\"Jones\"\n",
    );
    let rejects_file = h.dir.join("rejects.csv");
    let output = h
        .herald(&[
            "crm",
            "import",
            "contacts",
            path(&file),
            "--rejects",
            path(&rejects_file),
        ])
        .await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    let expected = format!(
        "Read 10 rows of {} as Contacts of account 100000001, matched on Email:\n\
         \x20 created:  3\n\
         \x20 updated:  0\n\
         \x20 rejected: 7\n\
         Rejected rows:\n\
         \x20 line 3: Email: the domain needs at least one dot, as in example.com\n\
         \x20 line 4: Email: an Email is required and cannot be cleared\n\
         \x20 line 5: invalid UTF-8 in column FirstName\n\
         \x20 line 7: expected 3 fields, found 2\n\
         \x20 line 8: expected 3 fields, found 4\n\
         \x20 line 9: expected 3 fields, found 1 in a record running from line 9 to line 10: \
         is a quote left open?\n\
         \x20 line 12: duplicate Email: an earlier row of this file has the same Email\n\
         Rejected rows are in {}.\n",
        path(&file),
        path(&rejects_file),
    );
    assert_eq!(text, expected);
    let mut emails: Vec<String> = h
        .contacts()
        .await
        .into_iter()
        .map(|stored| stored.record.email.to_string())
        .collect();
    emails.sort();
    assert_eq!(
        emails,
        ["ann@example.com", "ivy@example.com", "jo@example.com"]
    );
    let rejected = std::fs::read(&rejects_file).unwrap();
    let mut lines = rejected.split(|&byte| byte == b'\n');
    assert_eq!(
        lines.next().unwrap(),
        b"line,reason,Email,FirstName,LastName"
    );
    assert_eq!(
        lines.nth(2).unwrap(),
        b"5,invalid UTF-8 in column FirstName,dee@example.com,D\xe9e,Latin1",
        "the row is kept byte for byte"
    );
}

async fn an_unknown_or_repeated_header_is_fatal_and_writes_nothing(h: Harness) {
    for (header, message) in [
        (
            "Email,Phone",
            "column 2 of the header row: Phone: unknown field",
        ),
        (
            "Email,Company__c,company__C",
            "columns 2 and 3 of the header row both name company__C",
        ),
        (
            "Id,Email",
            "column 1 of the header row: Id: this field is set by Herald",
        ),
        (
            "FirstName,LastName",
            "matching on Email needs an Email column",
        ),
    ] {
        let file = h.file(
            "header.csv",
            format!("{header}\nann@example.com,1\n").as_bytes(),
        );
        let output = h.herald(&["crm", "import", "contacts", path(&file)]).await;
        assert_eq!(output.status.code(), Some(2), "{header}");
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
        assert!(output.stdout.is_empty());
    }
    let output = h
        .herald(&[
            "crm",
            "import",
            "contacts",
            path(&h.dir.join("missing.csv")),
        ])
        .await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("cannot read"),
        "{}",
        stderr(&output)
    );
    assert!(h.contacts().await.is_empty());
}

async fn an_unknown_account_or_campaign_is_fatal_and_writes_nothing(h: Harness) {
    let file = h.file("people.csv", b"Email\nann@example.com\n");
    let rejects = h.dir.join("rejects.csv");
    for (args, message) in [
        (
            vec!["--mid", "999999"],
            "there is no account with MID 999999",
        ),
        (
            vec!["--campaign", "701000000000001"],
            "there is no campaign 701000000000001AAA in account 100000001",
        ),
    ] {
        let mut all = vec!["crm", "import", "contacts", path(&file)];
        all.extend(["--rejects", path(&rejects)]);
        all.extend(args);
        let output = h.herald(&all).await;
        assert_eq!(output.status.code(), Some(2));
        assert!(stderr(&output).contains(message), "{}", stderr(&output));
    }
    assert!(h.contacts().await.is_empty());
    assert!(!rejects.exists(), "not even the rejects file is written");
}

async fn importing_again_updates_the_records_instead_of_duplicating_them(h: Harness) {
    let first = h.file(
        "first.csv",
        b"Email,FirstName,Company__c\nann@example.com,Ann,Acme\nbob@example.com,Bob,Acme\n",
    );
    let (status, summary) = h.import(&first, &[]).await;
    assert_eq!((status, &summary["created"]), (Some(0), &Value::from(2)));
    let ann_id = h.contact("ann@example.com").await.record.id;
    let second = h.file(
        "second.csv",
        b"EMAIL,firstname,Company__c\nANN@example.com,Annie,\ncy@example.com,Cy,Globex\n",
    );
    let (status, summary) = h.import(&second, &[]).await;
    assert_eq!(status, Some(0), "{summary}");
    assert_eq!(
        (&summary["created"], &summary["updated"]),
        (&1.into(), &1.into())
    );
    assert_eq!(h.contacts().await.len(), 3);
    let ann = h.contact("ann@example.com").await.record;
    assert_eq!(ann.id, ann_id);
    assert_eq!(ann.first_name.as_deref(), Some("Annie"));
    assert!(
        !ann.custom.contains_key("Company__c"),
        "an empty cell clears"
    );
}

async fn matching_on_external_id_updates_the_record_with_that_id(h: Harness) {
    let file = h.file(
        "first.csv",
        b"ExternalId,Email\nX-1,ann@example.com\nX-2,bob@example.com\n",
    );
    let (status, _) = h.import(&file, &["--match-on", "externalid"]).await;
    assert_eq!(status, Some(0));
    let file = h.file(
        "second.csv",
        b"ExternalId,Email\nx-1,ann@new.example.com\n,nobody@example.com\nX-3,\n",
    );
    let (status, summary) = h.import(&file, &["--match-on", "ExternalId"]).await;
    assert_eq!(status, Some(1));
    assert_eq!(summary["match_on"], "ExternalId");
    assert_eq!(
        (&summary["created"], &summary["updated"]),
        (&0.into(), &1.into())
    );
    assert_eq!(
        rejects(&summary),
        [
            (
                3,
                "matching on ExternalId needs an ExternalId in every row".into()
            ),
            (
                4,
                "Email: an Email is required and cannot be cleared".into()
            ),
        ]
    );
    let ann = h.contact("ann@new.example.com").await.record;
    assert_eq!(
        ann.external_id.as_deref(),
        Some("x-1"),
        "matched without regard to case, written as the row spells it"
    );
    assert_eq!(h.contacts().await.len(), 2);
}

async fn a_campaign_gains_every_imported_record(h: Harness) {
    let now = OffsetDateTime::now_utc();
    let campaign = h
        .store
        .create_target(
            Campaigns,
            MID,
            CampaignDefinition {
                name: "Imported".into(),
                description: None,
            },
            now,
        )
        .await
        .unwrap()
        .id;
    let existing = h.file("existing.csv", b"Email\nann@example.com\n");
    h.import(&existing, &[]).await;
    let file = h.file(
        "people.csv",
        b"Email,LastName\nann@example.com,Lee\nbob@example.com,Ray\nbad@localhost,X\n",
    );
    let (status, summary) = h.import(&file, &["--campaign", campaign.as_15()]).await;
    assert_eq!(status, Some(1), "{summary}");
    assert_eq!(
        summary["campaign"],
        serde_json::json!({"id": campaign, "added": 2})
    );
    let count = h
        .store
        .count_members(MID, TargetRef::campaign(campaign))
        .await
        .unwrap();
    assert_eq!(count, Some(2));
    let (_, again) = h.import(&file, &["--campaign", campaign.as_str()]).await;
    assert_eq!(
        again["campaign"]["added"], 0,
        "members already in stay once"
    );
}

async fn duplicates_are_found_across_batches_and_the_listing_is_capped(h: Harness) {
    // More rows than one batch holds, so the repeated address lands in a later batch.
    let mut csv = String::from("Email,FirstName\n");
    for n in 0..2100 {
        csv.push_str(&format!("p{n}@example.com,P\n"));
    }
    csv.push_str("p5@example.com,Again\n");
    for _ in 0..1003 {
        csv.push_str("not an address,X\n");
    }
    let file = h.file("big.csv", csv.as_bytes());
    let rejects_file = h.dir.join("rejects.csv");
    let (status, summary) = h.import(&file, &["--rejects", path(&rejects_file)]).await;
    assert_eq!(status, Some(1));
    assert_eq!(summary["created"], 2100);
    assert_eq!(summary["rejected"], 1004);
    assert_eq!(
        rejects(&summary)[0],
        (
            2102,
            "duplicate Email: an earlier row of this file has the same Email".into()
        )
    );
    assert_eq!(summary["rejects"].as_array().unwrap().len(), 1000);
    assert_eq!(summary["rejects_not_listed"], 4);
    let written = std::fs::read_to_string(&rejects_file).unwrap();
    assert_eq!(written.lines().count(), 1 + 1004);
    assert_eq!(
        h.contact("p5@example.com")
            .await
            .record
            .first_name
            .as_deref(),
        Some("P")
    );
}

async fn a_quote_left_open_to_the_end_stops_the_import_after_the_rows_before_it(h: Harness) {
    let mut csv =
        b"Email,FirstName\nann@example.com,Ann\nbob@example.com,Bob\n\"cy@example.com,Cy\n"
            .to_vec();
    csv.extend("dee@example.com,Dee\n".repeat(60_000).as_bytes());
    let file = h.file("open.csv", &csv);
    let output = h
        .herald(&["crm", "import", "contacts", path(&file), "--json"])
        .await;
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: line 4: a record runs past 1 MiB; is a quote left open? The rest of the file \
         cannot be read; 2 rows were imported before that (2 created, 0 updated)\n"
    );
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (&summary["rows_read"], &summary["created"]),
        (&2.into(), &2.into())
    );
    assert!(summary["stopped"].as_str().unwrap().starts_with("line 4: "));
    assert_eq!(h.contacts().await.len(), 2);
}

backend_tests!(setup =>
    a_good_file_creates_every_row_and_exits_zero,
    bad_rows_are_rejected_with_their_lines_and_only_good_rows_go_in,
    an_unknown_or_repeated_header_is_fatal_and_writes_nothing,
    an_unknown_account_or_campaign_is_fatal_and_writes_nothing,
    importing_again_updates_the_records_instead_of_duplicating_them,
    matching_on_external_id_updates_the_record_with_that_id,
    a_campaign_gains_every_imported_record,
    duplicates_are_found_across_batches_and_the_listing_is_capped,
    a_quote_left_open_to_the_end_stops_the_import_after_the_rows_before_it,
);
