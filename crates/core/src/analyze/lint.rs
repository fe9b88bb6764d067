//! Structural rules of RFC 5280 and the CA/Browser Forum Baseline Requirements that path
//! building (rustls-webpki) does not enforce: serial numbers, key identifiers, criticality,
//! Common Name vs subjectAltName, allowed key types. The strict profile of `cert verify` rejects
//! a chain that breaks any of them; `check` does not use them (clients tolerate most).
//!
//! Each lint returns a message naming the certificate and the rule.

use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_X509_EXT_CRL_NUMBER;
use x509_parser::prelude::{CertificateRevocationList, FromDer, X509Certificate};
use x509_parser::public_key::PublicKey;

crate::vocabulary::vocabulary! {
    /// Where a certificate sits in the path; some rules apply only to some positions.
    pub enum Position {
        /// The server certificate.
        Leaf => "leaf",
        /// An intermediate CA.
        Intermediate => "intermediate",
        /// The trust anchor (root).
        Root => "root",
    }
}

/// Lints the path: leaf, intermediates (leaf upwards), then the anchor's certificate when known.
pub fn path(leaf: &[u8], intermediates: &[Vec<u8>], anchor: Option<&[u8]>) -> Vec<String> {
    let mut found = Vec::new();
    let mut certs: Vec<(&[u8], Position)> = vec![(leaf, Position::Leaf)];
    certs.extend(
        intermediates
            .iter()
            .map(|d| (d.as_slice(), Position::Intermediate)),
    );
    if let Some(anchor) = anchor {
        certs.push((anchor, Position::Root));
    }
    for (der, position) in certs {
        match X509Certificate::from_der(der) {
            Ok((_, cert)) => found.extend(certificate(&cert, position)),
            Err(error) => found.push(format!("{position}: unreadable: {error}")),
        }
    }
    found
}

/// The rules for one certificate.
pub fn certificate(cert: &X509Certificate<'_>, position: Position) -> Vec<String> {
    let who = format!("{position} {}", cert.subject());
    let mut found = Vec::new();
    let mut flag = |rule: &str| found.push(format!("{who}: {rule}"));
    let is_ca = position != Position::Leaf;
    let self_issued = cert.subject().as_raw() == cert.issuer().as_raw();

    // RFC 5280 4.1.2.2: positive, at most 20 octets. Not applied to roots: a trust anchor is
    // trusted as configured (some public roots have serial 0).
    let serial = cert.raw_serial();
    if position != Position::Root {
        if serial.len() > 20 && !(serial.len() == 21 && serial[0] == 0) {
            flag("serial number longer than 20 octets");
        }
        if serial.iter().all(|b| *b == 0) {
            flag("serial number is zero");
        }
    }

    let mut aki = None;
    let mut ski = None;
    let mut san = None;
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(value) => {
                if extension.critical {
                    flag("authorityKeyIdentifier is critical (RFC 5280 4.2.1.1)");
                }
                aki = Some(value);
            }
            ParsedExtension::SubjectKeyIdentifier(value) => {
                if extension.critical {
                    flag("subjectKeyIdentifier is critical (RFC 5280 4.2.1.2)");
                }
                ski = Some(value.0);
            }
            ParsedExtension::SubjectAlternativeName(value) => {
                san = Some((value, extension.critical))
            }
            ParsedExtension::NameConstraints(nc) => {
                if !is_ca {
                    flag("nameConstraints in an end-entity certificate (RFC 5280 4.2.1.10)");
                }
                if !extension.critical && position == Position::Intermediate {
                    flag("nameConstraints is not critical (RFC 5280 4.2.1.10)");
                }
                let empty = |t: &Option<Vec<_>>| t.as_ref().is_none_or(Vec::is_empty);
                if empty(&nc.permitted_subtrees) && empty(&nc.excluded_subtrees) {
                    flag("nameConstraints with no subtrees (RFC 5280 4.2.1.10)");
                }
                for subtree in nc
                    .permitted_subtrees
                    .iter()
                    .chain(nc.excluded_subtrees.iter())
                    .flatten()
                {
                    if let GeneralName::DNSName(name) = subtree.base {
                        if name.starts_with('.') {
                            flag("nameConstraints dNSName with a leading period");
                        }
                    }
                }
            }
            ParsedExtension::PolicyConstraints(_) if !extension.critical => {
                flag("policyConstraints is not critical (RFC 5280 4.2.1.11)");
            }
            ParsedExtension::UnsupportedExtension { .. } if extension.critical => {
                flag("unknown critical extension");
            }
            ParsedExtension::ParseError { error } => {
                flag(&format!("malformed extension {}: {error}", extension.oid));
            }
            _ => {}
        }
    }
    // RFC 5280 4.2.1.1: required except in self-signed certificates.
    if aki.is_none() && !self_issued && position != Position::Root {
        flag("no authorityKeyIdentifier (RFC 5280 4.2.1.1)");
    }
    // RFC 5280 4.2.1.2: CA certificates must have one.
    if is_ca && ski.is_none() {
        flag("CA certificate without subjectKeyIdentifier (RFC 5280 4.2.1.2)");
    }
    if position == Position::Root {
        if let Some(aki) = aki {
            if aki.authority_cert_issuer.is_some() || aki.authority_cert_serial.is_some() {
                flag("root authorityKeyIdentifier has issuer/serial fields (CA/B BR 7.1.2.1)");
            }
            match (&aki.key_identifier, ski) {
                (None, _) => flag("root authorityKeyIdentifier without keyIdentifier"),
                (Some(id), Some(ski)) if id.0 != ski && self_issued => {
                    flag("root authorityKeyIdentifier differs from its subjectKeyIdentifier");
                }
                _ => {}
            }
        }
    }

    let empty_subject = cert.subject().iter().next().is_none();
    if let Some((san, critical)) = san {
        if empty_subject && !critical {
            flag("empty subject with a non-critical subjectAltName (RFC 5280 4.2.1.6)");
        }
        if !empty_subject && critical {
            flag("critical subjectAltName with a non-empty subject (CA/B BR 7.1.2.7.12)");
        }
        for name in &san.general_names {
            if let GeneralName::DNSName(dns) = name {
                if dns.contains('_') {
                    flag("dNSName with an underscore (CA/B BR 7.1.4.2)");
                }
            }
        }
    }
    if is_ca && empty_subject {
        flag("CA certificate with an empty subject (RFC 5280 4.1.2.6)");
    }

    match cert.basic_constraints() {
        Ok(Some(bc)) => {
            if position == Position::Root && !bc.critical {
                flag("root basicConstraints is not critical (RFC 5280 4.2.1.9)");
            }
            if is_ca && !bc.value.ca {
                flag("CA certificate with basicConstraints cA=false");
            }
        }
        Ok(None) if is_ca => flag("CA certificate without basicConstraints (RFC 5280 4.2.1.9)"),
        _ => {}
    }
    if let Ok(Some(ku)) = cert.key_usage() {
        if position == Position::Leaf && ku.value.key_cert_sign() {
            flag("end-entity certificate with keyUsage keyCertSign");
        }
        if is_ca && !ku.value.key_cert_sign() {
            flag("CA certificate whose keyUsage lacks keyCertSign (RFC 5280 4.2.1.3)");
        }
    }
    match cert.extended_key_usage() {
        Ok(Some(eku)) => {
            if position == Position::Root {
                flag("root certificate with extendedKeyUsage (CA/B BR 7.1.2.1)");
            }
            if position == Position::Leaf {
                if eku.critical {
                    flag("critical extendedKeyUsage (CA/B BR 7.1.2.7.10)");
                }
                if eku.value.any {
                    flag("anyExtendedKeyUsage in a server certificate (CA/B BR 7.1.2.7.10)");
                }
            }
        }
        Ok(None) if position == Position::Leaf => {
            flag("server certificate without extendedKeyUsage (CA/B BR 7.1.2.7.10)");
        }
        _ => {}
    }

    match cert.public_key().parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = modulus_bits(rsa.modulus);
            if bits % 8 != 0 {
                flag("RSA modulus size not a multiple of 8 (CA/B BR 6.1.5)");
            }
            if bits < 2048 {
                flag("RSA key under 2048 bits (CA/B BR 6.1.5)");
            }
        }
        Ok(PublicKey::EC(ec)) if ec.key_size() < 256 => {
            flag("elliptic curve under P-256 (CA/B BR 6.1.5)");
        }
        Ok(PublicKey::DSA(_)) => flag("DSA key (not allowed, CA/B BR 6.1.5)"),
        _ => {}
    }

    if position == Position::Leaf {
        found.extend(common_name_in_san(cert).map(|rule| format!("{who}: {rule}")));
    }
    found
}

/// CA/B BR 7.1.4.3: a Common Name that stands for one of the subjectAltName values must be a
/// character-for-character copy of it, in ASCII: the dNSName exactly as encoded (not another
/// case), an IP address in its canonical text (RFC 3986 dotted decimal for IPv4, RFC 5952 for
/// IPv6). A host name in Unicode (U-labels) is never such a copy, since a dNSName holds only
/// ASCII (IA5String, A-labels).
///
/// A CN "stands for" a value when it names the same thing once case, IDNA and IP notation are
/// set aside: that is a CN meant as one of the names but written otherwise, which a client with
/// a CN fallback could read differently from the subjectAltName. A CN that names none of the
/// values (a CA's label, a name outside the certificate's names) is left alone: the rule cannot
/// tell it from the many certificates whose CN is a parent domain of their names, which every
/// client accepts (see docs/conformance.md).
fn common_name_in_san(cert: &X509Certificate<'_>) -> Option<String> {
    let mut dns: Vec<&str> = Vec::new();
    let mut ips: Vec<std::net::IpAddr> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(value) => dns.push(value),
                GeneralName::IPAddress(bytes) => {
                    if let Ok(octets) = <[u8; 4]>::try_from(*bytes) {
                        ips.push(std::net::IpAddr::from(octets));
                    } else if let Ok(octets) = <[u8; 16]>::try_from(*bytes) {
                        ips.push(std::net::IpAddr::from(octets));
                    }
                }
                _ => {}
            }
        }
    }
    cert.subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok())
        .find_map(|cn| {
            let meant: Vec<String> = dns
                .iter()
                .filter(|value| same_dns_name(cn, value))
                .map(|value| (*value).to_string())
                .chain(
                    lenient_ip(cn)
                        .filter(|ip| ips.contains(ip))
                        .map(|ip| ip.to_string()),
                )
                .collect();
            if unicode_host_name(cn) {
                return Some(format!(
                    "Common Name \"{cn}\" is a host name in Unicode, which no subjectAltName \
                     dNSName can hold (CA/B BR 7.1.4.3 requires a copy of one)"
                ));
            }
            let copied = meant.iter().any(|value| value == cn);
            (!meant.is_empty() && !copied).then(|| {
                format!(
                    "Common Name \"{cn}\" stands for the subjectAltName value {} but is not a \
                     character-for-character copy of it (CA/B BR 7.1.4.3)",
                    meant.join(", ")
                )
            })
        })
}

/// A name with non-ASCII characters that IDNA turns into a host name of two labels or more.
fn unicode_host_name(cn: &str) -> bool {
    !cn.is_ascii() && idna::domain_to_ascii_strict(cn).is_ok_and(|ascii| ascii.contains('.'))
}

/// Whether a CN names the same DNS name as a dNSName, case and IDNA (U-label vs A-label) aside.
fn same_dns_name(cn: &str, value: &str) -> bool {
    let ascii = idna::domain_to_ascii(cn).unwrap_or_else(|_| cn.to_ascii_lowercase());
    ascii.eq_ignore_ascii_case(value) || cn.eq_ignore_ascii_case(value)
}

/// The IP address a CN names in any notation a resolver accepts: IPv6 in any case or
/// compression, IPv4 as `inet_aton` reads it (dotted parts in decimal, octal with a leading
/// zero, or hexadecimal with `0x`, the last part filling the remaining bytes).
fn lenient_ip(cn: &str) -> Option<std::net::IpAddr> {
    if cn.contains(':') {
        return cn.parse::<std::net::Ipv6Addr>().ok().map(Into::into);
    }
    let parts: Vec<&str> = cn.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for part in &parts {
        let (digits, radix) =
            if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
                (hex, 16)
            } else if part.len() > 1 && part.starts_with('0') {
                (&part[1..], 8)
            } else {
                (*part, 10)
            };
        if digits.is_empty() || digits.len() > 11 || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        values.push(u64::from_str_radix(digits, radix).ok()?);
    }
    let (last, leading) = values.split_last()?;
    if leading.iter().any(|v| *v > 255) {
        return None;
    }
    let last_bytes = 4 - leading.len();
    if *last >= 1u64 << (8 * last_bytes) {
        return None;
    }
    let address = leading
        .iter()
        .enumerate()
        .fold(*last, |address, (index, v)| {
            address | (v << (24 - 8 * index))
        });
    u32::try_from(address)
        .ok()
        .map(|a| std::net::IpAddr::from(std::net::Ipv4Addr::from(a)))
}

/// The exact bit length of an RSA modulus (DER integers may carry a leading zero byte).
fn modulus_bits(modulus: &[u8]) -> usize {
    let trimmed: &[u8] = match modulus.iter().position(|b| *b != 0) {
        Some(first) => &modulus[first..],
        None => return 0,
    };
    trimmed.len() * 8 - trimmed[0].leading_zeros() as usize
}

/// RFC 5280 5.2.3 and 6.3.3: a CRL must carry a non-critical cRLNumber, and its issuer (among
/// `certs`, the path's certificates) must be allowed to sign CRLs when it has a keyUsage.
pub fn crl(der: &[u8], certs: &[&[u8]]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok((_, crl)) = CertificateRevocationList::from_der(der) else {
        found.push("unreadable CRL".to_string());
        return found;
    };
    match crl
        .extensions()
        .iter()
        .find(|e| e.oid == OID_X509_EXT_CRL_NUMBER)
    {
        None => found.push("CRL without cRLNumber (RFC 5280 5.2.3)".to_string()),
        Some(number) if number.critical => {
            found.push("CRL with a critical cRLNumber (RFC 5280 5.2.3)".to_string());
        }
        Some(_) => {}
    }
    for cert in certs {
        let Ok((_, cert)) = X509Certificate::from_der(cert) else {
            continue;
        };
        if cert.subject().as_raw() != crl.issuer().as_raw() {
            continue;
        }
        if let Ok(Some(ku)) = cert.key_usage() {
            if !ku.value.crl_sign() {
                found.push(format!(
                    "CRL issuer {} lacks keyUsage cRLSign (RFC 5280 6.3.3)",
                    cert.subject()
                ));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_read_in_every_notation_a_resolver_accepts() {
        let ip = |text: &str| lenient_ip(text).map(|ip| ip.to_string());
        assert_eq!(ip("192.168.1.1").as_deref(), Some("192.168.1.1"));
        assert_eq!(ip("192.168.001.001").as_deref(), Some("192.168.1.1"));
        assert_eq!(ip("0xC0A80101").as_deref(), Some("192.168.1.1"));
        assert_eq!(ip("192.168.257").as_deref(), Some("192.168.1.1"));
        assert_eq!(
            ip("2001:DB8::8A2E:370:7334").as_deref(),
            Some("2001:db8::8a2e:370:7334")
        );
        assert_eq!(
            ip("2001:0db8:0000:0000:0000:0000:0000:0001").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(ip("256.1.1.1"), None);
        assert_eq!(ip("1.2.3.4.5"), None);
        assert_eq!(ip("example.com"), None);
        assert_eq!(ip("08.1.1.1"), None);
        assert_eq!(ip("0x"), None);
        assert_eq!(ip(""), None);
        assert_eq!(ip("99999999999999999999"), None);
    }

    #[test]
    fn common_names_name_a_dns_value_case_and_idna_aside() {
        assert!(same_dns_name("Example.COM", "example.com"));
        assert!(same_dns_name("bücher.example", "xn--bcher-kva.example"));
        assert!(unicode_host_name("test-測試.com"));
        assert!(!unicode_host_name("Bücher GmbH"));
        assert!(!unicode_host_name("example.com"));
        assert!(!same_dns_name("example.com", "foo.example.com"));
        assert!(!same_dns_name("xn--nxasmq6b.com", "xn--n3h.com"));
    }
}
