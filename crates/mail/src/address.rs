//! Addresses as they go on the wire.

use herald_domain::email_address::EmailAddress;

/// The address with its domain in ASCII (punycode for an internationalized domain), so
/// that neither headers nor the envelope need SMTPUTF8. The local part is ASCII already
/// (`EmailAddress::parse` accepts only `atext`).
pub(crate) fn ascii_address(address: &EmailAddress) -> Result<String, idna::Errors> {
    let domain = address.domain();
    if domain.is_ascii() {
        return Ok(address.as_str().to_owned());
    }
    let domain = idna::domain_to_ascii(domain)?;
    Ok(format!("{}@{domain}", address.local_part()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_international_domain_is_written_in_punycode() {
        let address = EmailAddress::parse("Ann@Bücher.example").unwrap();
        assert_eq!(
            ascii_address(&address).unwrap(),
            "Ann@xn--bcher-kva.example"
        );
        let plain = EmailAddress::parse("bob@example.com").unwrap();
        assert_eq!(ascii_address(&plain).unwrap(), "bob@example.com");
    }
}
