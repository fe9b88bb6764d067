//! RFC 5280 path building for the two shapes rustls-webpki refuses although RFC 5280 (and
//! mozilla::pkix, Thunderbird's verifier) accepts them:
//!
//! - self-issued intermediates (key rollover: a CA certificate whose issuer is its own subject,
//!   signed by the CA's previous key). RFC 5280 does not count them against pathLenConstraint
//!   (4.2.1.9, 6.1.4 (l)) nor apply name constraints to them (4.2.1.10, 6.1.3 (b)); webpki does
//!   both;
//! - directoryName name constraints (4.2.1.10), which webpki treats as a violation whatever the
//!   names are.
//!
//! [`super::chain`] asks webpki first and comes here only when webpki refused a chain that has
//! one of these shapes ([`wanted`]) and no revocation lists were given (this builder does not read
//! CRLs). So every other chain is judged by webpki alone, and this module can only turn a refusal
//! into a path that passes every check below.
//!
//! A path found here is held to what webpki checks, with RFC 5280's rules for the two shapes:
//! every certificate parses under webpki (version 3, no unknown critical extension, well-formed
//! DER), each signature verifies with the issuer's key under the same algorithms
//! ([`super::algorithms::LENIENT`]) and matches the inner signature algorithm, issuer and subject
//! names are byte-identical, the leaf is not a CA, each intermediate has basicConstraints cA=true,
//! keyCertSign when it has a keyUsage, serverAuth when it has an extendedKeyUsage, and its
//! pathLenConstraint; name constraints of every CA above (the anchor's included) hold for every
//! certificate below that is not self-issued, the leaf always. A name form it cannot judge
//! (e-mail, URI, other names) under a constraint of that form refuses the path, as webpki does.
//! Dates are judged by [`super::chain::dates`] on the path returned, as for webpki's paths.
//!
//! The search is bounded: a path has at most [`MAX_INTERMEDIATES`] intermediates, at most
//! [`MAX_SIGNATURES`] signatures are checked and at most [`MAX_STEPS`] issuers tried, whatever
//! the chain (the candidates themselves are capped by [`super::budget::candidates`]).

use rustls::pki_types::CertificateDer;
use webpki::EndEntityCert;
use x509_parser::asn1_rs::Any;
use x509_parser::extensions::{GeneralName, NameConstraints, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::algorithms::LENIENT;

/// Most intermediates on a path, as many as [`super::budget::MAX_CANDIDATES`] lets through.
pub const MAX_INTERMEDIATES: usize = super::budget::MAX_CANDIDATES;

/// Most signatures verified in one search (each costs tens of microseconds).
pub const MAX_SIGNATURES: usize = 64;

/// Most issuer candidates tried in one search, whether or not their signature was checked.
pub const MAX_STEPS: usize = 512;

/// A path found: indexes into the intermediates and anchors given to [`build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The intermediates used, from the leaf upwards.
    pub intermediates: Vec<usize>,
    /// The anchor the path ends in.
    pub anchor: usize,
}

/// Whether a chain has a shape webpki refuses and [`build`] may accept: an intermediate (DER)
/// that is self-issued or has a directoryName name constraint. Anchors are asked once, when
/// loaded ([`directory_constrained`]).
pub fn wanted(intermediates: &[&[u8]]) -> bool {
    intermediates
        .iter()
        .filter_map(|der| X509Certificate::from_der(der).ok())
        .any(|(_, cert)| self_issued(&cert) || has_dn_constraint(&cert))
}

/// Whether a certificate (DER) has a directoryName name constraint.
pub fn directory_constrained(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, cert)| has_dn_constraint(&cert))
}

/// Builds a path from `leaf` through `intermediates` (DER) to one of `anchors`, each given as its
/// subject (the Name's contents, as in a webpki trust anchor) and its certificate (DER). At most
/// `max_intermediates` intermediates that are not self-issued, when given. Only the anchors whose
/// subject issued one of the certificates are parsed.
pub fn build(
    leaf: &[u8],
    intermediates: &[&[u8]],
    anchors: &[(&[u8], &[u8])],
    max_intermediates: Option<usize>,
) -> Option<Found> {
    let leaf_der = CertificateDer::from(leaf);
    let intermediate_ders: Vec<CertificateDer<'_>> = intermediates
        .iter()
        .map(|der| CertificateDer::from(*der))
        .collect();
    let leaf = Cert::parse(&leaf_der)?;
    let intermediates: Vec<Option<Cert<'_>>> = intermediate_ders.iter().map(Cert::parse).collect();
    let issuers: Vec<&[u8]> = std::iter::once(&leaf)
        .chain(intermediates.iter().flatten())
        .filter_map(|cert| element(cert.issuer()).map(|(name, _)| name.contents))
        .collect();
    let anchor_ders: Vec<Option<CertificateDer<'_>>> = anchors
        .iter()
        .map(|(subject, der)| {
            issuers
                .contains(subject)
                .then(|| CertificateDer::from(*der))
        })
        .collect();
    let anchors: Vec<Option<Cert<'_>>> = anchor_ders
        .iter()
        .map(|der| der.as_ref().and_then(Cert::parse))
        .collect();
    let mut search = Search {
        leaf: &leaf,
        intermediates: &intermediates,
        anchors: &anchors,
        max_intermediates,
        signatures: 0,
        steps: 0,
    };
    let mut path = Vec::new();
    search.extend(&mut path)
}

/// One certificate, parsed by webpki (for its strictness and its key) and x509-parser (for the
/// fields webpki keeps to itself).
struct Cert<'a> {
    webpki: EndEntityCert<'a>,
    x509: X509Certificate<'a>,
    /// The whole tbsCertificate element: what the issuer signed.
    tbs: &'a [u8],
    /// The contents of the outer signatureAlgorithm, as webpki's algorithm identifiers are.
    signature_algorithm: &'a [u8],
    /// The signature bits.
    signature: &'a [u8],
}

impl<'a> Cert<'a> {
    fn parse(der: &'a CertificateDer<'a>) -> Option<Cert<'a>> {
        let webpki = EndEntityCert::try_from(der).ok()?;
        let (rest, x509) = X509Certificate::from_der(der.as_ref()).ok()?;
        if !rest.is_empty() || x509.tbs_certificate.signature != x509.signature_algorithm {
            return None;
        }
        let (
            Element {
                tag: SEQUENCE,
                contents: outer,
                ..
            },
            after,
        ) = element(der.as_ref())?
        else {
            return None;
        };
        if !after.is_empty() {
            return None;
        }
        let (
            Element {
                tag: SEQUENCE,
                whole: tbs,
                ..
            },
            rest,
        ) = element(outer)?
        else {
            return None;
        };
        let (
            Element {
                tag: SEQUENCE,
                contents: signature_algorithm,
                ..
            },
            rest,
        ) = element(rest)?
        else {
            return None;
        };
        let (
            Element {
                tag: BIT_STRING,
                contents: bits,
                ..
            },
            rest,
        ) = element(rest)?
        else {
            return None;
        };
        let (0, signature) = bits.split_first()? else {
            return None;
        };
        if !rest.is_empty() {
            return None;
        }
        Some(Cert {
            webpki,
            x509,
            tbs,
            signature_algorithm,
            signature,
        })
    }

    fn subject(&self) -> &[u8] {
        self.x509.subject().as_raw()
    }

    fn issuer(&self) -> &[u8] {
        self.x509.issuer().as_raw()
    }

    fn key(&self) -> &[u8] {
        self.x509.public_key().raw
    }
}

/// The depth-first search and its budget.
struct Search<'s, 'a> {
    leaf: &'s Cert<'a>,
    intermediates: &'s [Option<Cert<'a>>],
    anchors: &'s [Option<Cert<'a>>],
    max_intermediates: Option<usize>,
    signatures: usize,
    steps: usize,
}

impl<'a> Search<'_, 'a> {
    /// Extends `path` (indexes of intermediates, leaf upwards) to an anchor.
    fn extend(&mut self, path: &mut Vec<usize>) -> Option<Found> {
        let child = match path.last() {
            Some(&index) => self.intermediates.get(index)?.as_ref()?,
            None => self.leaf,
        };
        for (index, anchor) in self.anchors.iter().enumerate() {
            let Some(anchor) = anchor else { continue };
            if anchor.subject() == child.issuer()
                && self.signed(child, anchor)?
                && self.valid(path, anchor)
            {
                return Some(Found {
                    intermediates: path.clone(),
                    anchor: index,
                });
            }
        }
        if path.len() >= MAX_INTERMEDIATES {
            return None;
        }
        for (index, issuer) in self.intermediates.iter().enumerate() {
            let Some(issuer) = issuer else { continue };
            if path.contains(&index) || issuer.subject() != child.issuer() {
                continue;
            }
            // The same CA (name and key) twice is a loop, not a path (RFC 4158 5.2).
            let seen = std::iter::once(self.leaf)
                .chain(
                    path.iter()
                        .filter_map(|&i| self.intermediates.get(i)?.as_ref()),
                )
                .any(|c| c.subject() == issuer.subject() && c.key() == issuer.key());
            if seen || !self.signed(child, issuer)? {
                continue;
            }
            path.push(index);
            if let Some(found) = self.extend(path) {
                return Some(found);
            }
            path.pop();
            if self.signatures >= MAX_SIGNATURES || self.steps >= MAX_STEPS {
                return None;
            }
        }
        None
    }

    /// Whether `issuer`'s key signed `child`; `None` once the budget is spent.
    fn signed(&mut self, child: &Cert<'_>, issuer: &Cert<'_>) -> Option<bool> {
        self.steps += 1;
        if self.steps > MAX_STEPS || self.signatures >= MAX_SIGNATURES {
            return None;
        }
        self.signatures += 1;
        Some(
            LENIENT
                .iter()
                .filter(|alg| alg.signature_alg_id().as_ref() == child.signature_algorithm)
                .any(|alg| {
                    issuer
                        .webpki
                        .verify_signature(*alg, child.tbs, child.signature)
                        .is_ok()
                }),
        )
    }

    /// RFC 5280 path validation of a path whose signatures and names already chain.
    fn valid(&self, path: &[usize], anchor: &Cert<'a>) -> bool {
        let Some(cas) = path
            .iter()
            .map(|&i| self.intermediates.get(i)?.as_ref())
            .collect::<Option<Vec<&Cert<'a>>>>()
        else {
            return false;
        };
        if !end_entity_ok(&self.leaf.x509) {
            return false;
        }
        let counted = cas.iter().filter(|ca| !self_issued(&ca.x509)).count();
        if self.max_intermediates.is_some_and(|max| counted > max) {
            return false;
        }
        for (position, ca) in cas.iter().enumerate() {
            // Certificates between this CA and the leaf, leaf excluded, self-issued ones not
            // counted (RFC 5280 4.2.1.9).
            let below = cas[..position]
                .iter()
                .filter(|c| !self_issued(&c.x509))
                .count();
            if !ca_ok(&ca.x509, below) {
                return false;
            }
        }
        // Each CA's name constraints, the anchor's first, hold for every certificate below it
        // that is not self-issued, and for the leaf.
        let mut constraining: Vec<&Cert<'a>> = vec![anchor];
        constraining.extend(cas.iter().rev());
        for (height, ca) in constraining.iter().enumerate() {
            let constraints = match name_constraints(&ca.x509) {
                Ok(Some(constraints)) => constraints,
                Ok(None) => continue,
                Err(()) => return false,
            };
            // The CA at `height` constrains the intermediates below it: cas[..len - height].
            let below = cas.len() - height;
            let subjects = cas[..below]
                .iter()
                .map(|c| &c.x509)
                .filter(|c| !self_issued(c))
                .chain(std::iter::once(&self.leaf.x509));
            for cert in subjects {
                if !names_allowed(constraints, cert) {
                    return false;
                }
            }
        }
        true
    }
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const BIT_STRING: u8 = 0x03;

/// One DER element.
#[derive(Debug, PartialEq, Eq)]
struct Element<'d> {
    /// The identifier octet: a single one, as in every element of a certificate.
    tag: u8,
    contents: &'d [u8],
    /// Tag, length and contents.
    whole: &'d [u8],
}

/// The first DER element of `input`, and what follows it, read by asn1-rs (the reader under
/// x509-parser). Only single-octet tags and definite lengths of at most four octets, which is all
/// certificates use: the shapes this module has always accepted, no more.
fn element(input: &[u8]) -> Option<(Element<'_>, &[u8])> {
    let (rest, any) = Any::from_der(input).ok()?;
    let &[tag] = any.header.raw_tag()? else {
        return None;
    };
    let whole = input.get(..input.len() - rest.len())?;
    // Tag octet, then a short length or 0x8N and N <= 4 length octets.
    if whole.len() - any.data.len() > 6 {
        return None;
    }
    Some((
        Element {
            tag,
            contents: any.data,
            whole,
        },
        rest,
    ))
}

fn self_issued(cert: &X509Certificate<'_>) -> bool {
    cert.subject().as_raw() == cert.issuer().as_raw()
}

fn has_dn_constraint(cert: &X509Certificate<'_>) -> bool {
    matches!(name_constraints(cert), Ok(Some(nc)) if subtrees(nc).any(|(_, base)| matches!(base, GeneralName::DirectoryName(_))))
}

/// The leaf: not a CA (CA/B BR 7.1.2.7.8; webpki and mozilla::pkix refuse it), and TLS server
/// authentication allowed when it has an extendedKeyUsage.
fn end_entity_ok(cert: &X509Certificate<'_>) -> bool {
    let not_ca = match cert.basic_constraints() {
        Ok(bc) => !bc.is_some_and(|bc| bc.value.ca),
        Err(_) => false,
    };
    not_ca && eku_allows_server(cert)
}

/// An intermediate with `below` certificates under it that count against its path length.
fn ca_ok(cert: &X509Certificate<'_>, below: usize) -> bool {
    let constraints_ok = match cert.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => bc
            .value
            .path_len_constraint
            .is_none_or(|max| usize::try_from(max).is_ok_and(|max| below <= max)),
        _ => false,
    };
    let key_usage_ok = match cert.key_usage() {
        Ok(Some(ku)) => ku.value.key_cert_sign(),
        Ok(None) => true,
        Err(_) => false,
    };
    constraints_ok && key_usage_ok && eku_allows_server(cert)
}

fn eku_allows_server(cert: &X509Certificate<'_>) -> bool {
    match cert.extended_key_usage() {
        Ok(Some(eku)) => eku.value.server_auth,
        Ok(None) => true,
        Err(_) => false,
    }
}

/// The certificate's nameConstraints; `Err` when it is malformed or appears twice.
fn name_constraints<'c>(
    cert: &'c X509Certificate<'_>,
) -> Result<Option<&'c NameConstraints<'c>>, ()> {
    let mut found = None;
    for extension in cert.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::NameConstraints(nc) if found.is_none() => found = Some(nc),
            ParsedExtension::NameConstraints(_) => return Err(()),
            ParsedExtension::ParseError { .. }
                if extension.oid == x509_parser::oid_registry::OID_X509_EXT_NAME_CONSTRAINTS =>
            {
                return Err(());
            }
            _ => {}
        }
    }
    Ok(found)
}

/// Every subtree, each with whether it is permitted (`true`) or excluded.
fn subtrees<'c>(
    nc: &'c NameConstraints<'c>,
) -> impl Iterator<Item = (bool, &'c GeneralName<'c>)> + 'c {
    let permitted = nc
        .permitted_subtrees
        .iter()
        .flatten()
        .map(|s| (true, &s.base));
    let excluded = nc
        .excluded_subtrees
        .iter()
        .flatten()
        .map(|s| (false, &s.base));
    permitted.chain(excluded)
}

/// The name forms a constraint can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Dns,
    Ip,
    Directory,
    /// Any other form (e-mail, URI, other names, ...): never judged, so a constraint of that
    /// form refuses every certificate presenting a name of the form. The tag tells them apart.
    Other(u8),
}

fn form(name: &GeneralName<'_>) -> Form {
    match name {
        GeneralName::DNSName(_) => Form::Dns,
        GeneralName::IPAddress(_) => Form::Ip,
        GeneralName::DirectoryName(_) => Form::Directory,
        GeneralName::OtherName(..) => Form::Other(0),
        GeneralName::RFC822Name(_) => Form::Other(1),
        GeneralName::X400Address(_) => Form::Other(3),
        GeneralName::EDIPartyName(_) => Form::Other(5),
        GeneralName::URI(_) => Form::Other(6),
        GeneralName::RegisteredID(_) => Form::Other(8),
        GeneralName::Invalid(tag, _) => Form::Other(u8::try_from(tag.0 & 0x1f).unwrap_or(0x1f)),
    }
}

/// Whether `cert`'s names (subjectAltName entries, and the subject as a directoryName) satisfy
/// `nc`: no name in an excluded subtree, and each name of a form that has permitted subtrees in
/// one of them.
fn names_allowed(nc: &NameConstraints<'_>, cert: &X509Certificate<'_>) -> bool {
    // A malformed constraint is refused outright, as webpki does.
    if subtrees(nc).any(|(_, base)| !constraint_well_formed(base)) {
        return false;
    }
    let san = match cert.subject_alternative_name() {
        Ok(san) => san,
        Err(_) => return false,
    };
    let mut presented: Vec<Presented<'_>> = san
        .iter()
        .flat_map(|san| san.value.general_names.iter())
        .map(Presented::San)
        .collect();
    if cert.subject().iter().next().is_some() {
        presented.push(Presented::Subject(cert.subject().as_raw()));
    }
    presented.iter().all(|name| {
        let name_form = name.form();
        let mut permitted_of_form = false;
        let mut permitted_match = false;
        for (permitted, base) in subtrees(nc) {
            if form(base) != name_form {
                continue;
            }
            let Some(within) = name.within(base) else {
                return false;
            };
            if permitted {
                permitted_of_form = true;
                permitted_match |= within.all;
            } else if within.any {
                return false;
            }
        }
        !permitted_of_form || permitted_match
    })
}

/// A name a certificate presents.
enum Presented<'n> {
    San(&'n GeneralName<'n>),
    /// The subject, as a raw Name.
    Subject(&'n [u8]),
}

/// How a presented name relates to a subtree: `all` when every name it stands for is inside
/// (what a permitted subtree needs), `any` when some name it stands for may be (what an
/// excluded subtree refuses). They differ only for wildcards.
struct Within {
    all: bool,
    any: bool,
}

impl Within {
    fn exactly(inside: bool) -> Within {
        Within {
            all: inside,
            any: inside,
        }
    }
}

impl Presented<'_> {
    fn form(&self) -> Form {
        match self {
            Presented::San(name) => form(name),
            Presented::Subject(_) => Form::Directory,
        }
    }

    /// How this name relates to `base`, a subtree of the same form; `None` when it cannot be
    /// judged (a malformed name, or a form this module does not evaluate).
    fn within(&self, base: &GeneralName<'_>) -> Option<Within> {
        match (self, base) {
            (Presented::San(GeneralName::DNSName(name)), GeneralName::DNSName(base)) => {
                dns_within(name, base)
            }
            (Presented::San(GeneralName::IPAddress(ip)), GeneralName::IPAddress(base)) => {
                ip_within(ip, base).map(Within::exactly)
            }
            (
                Presented::San(GeneralName::DirectoryName(name)),
                GeneralName::DirectoryName(base),
            ) => dn_within(name.as_raw(), base.as_raw()).map(Within::exactly),
            (Presented::Subject(name), GeneralName::DirectoryName(base)) => {
                dn_within(name, base.as_raw()).map(Within::exactly)
            }
            _ => None,
        }
    }
}

/// Whether a subtree's base is one this module can judge: a DNS name (optionally with a leading
/// period), an address and contiguous mask, a Name, or a form it never judges.
fn constraint_well_formed(base: &GeneralName<'_>) -> bool {
    match base {
        GeneralName::DNSName(base) => {
            let name = base.strip_prefix('.').unwrap_or(base);
            name.is_empty() || hostname_like(name)
        }
        GeneralName::IPAddress(bytes) => {
            let half = bytes.len() / 2;
            (bytes.len() == 8 || bytes.len() == 32) && contiguous_mask(&bytes[half..])
        }
        GeneralName::DirectoryName(name) => rdns(name.as_raw()).is_some(),
        GeneralName::Invalid(..) => false,
        _ => true,
    }
}

/// Letters, digits and hyphens in non-empty labels.
fn hostname_like(name: &str) -> bool {
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

fn contiguous_mask(mask: &[u8]) -> bool {
    let bits: Vec<bool> = mask
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |bit| byte & (1 << bit) != 0))
        .collect();
    bits.windows(2).all(|pair| pair[0] || !pair[1])
}

/// RFC 5280 4.2.1.10 for dNSName: `example.com` covers itself and every name under it,
/// `.example.com` only the names under it. A wildcard `*.x` stands for every name one label
/// under `x`.
fn dns_within(name: &str, base: &str) -> Option<Within> {
    let name = name.to_ascii_lowercase();
    let base = base.to_ascii_lowercase();
    let under = |name: &str, domain: &str| {
        name.len() > domain.len()
            && name.ends_with(domain)
            && name.as_bytes()[name.len() - domain.len() - 1] == b'.'
    };
    let (domain, only_below) = match base.strip_prefix('.') {
        Some(domain) => (domain, true),
        None => (base.as_str(), false),
    };
    if domain.is_empty() {
        // An empty base covers every name.
        return Some(Within::exactly(true));
    }
    let inside = |name: &str| under(name, domain) || (!only_below && name == domain);
    match name.strip_prefix("*.") {
        Some(parent) => {
            if !hostname_like(parent) {
                return None;
            }
            // Every `a.parent` is inside when the parent is inside or is the domain itself.
            let all = under(parent, domain) || parent == domain;
            // Some `a.parent` is inside when, besides, the domain is one label under the parent.
            let any = all || domain.split_once('.').is_some_and(|(_, up)| up == parent);
            Some(Within { all, any })
        }
        None => hostname_like(&name).then(|| Within::exactly(inside(&name))),
    }
}

/// RFC 5280 4.2.1.10 for iPAddress: the address in the constraint's network, same family.
fn ip_within(ip: &[u8], base: &[u8]) -> Option<bool> {
    if ip.len() != 4 && ip.len() != 16 {
        return None;
    }
    let (network, mask) = base.split_at(base.len() / 2);
    if network.len() != ip.len() {
        return Some(false);
    }
    Some(
        ip.iter()
            .zip(network)
            .zip(mask)
            .all(|((a, n), m)| a & m == n & m),
    )
}

/// RFC 5280 4.2.1.10 and 7.1 for directoryName: the constraint's RDNs are the first RDNs of the
/// name, compared byte for byte (as mozilla::pkix does; no string folding).
fn dn_within(name: &[u8], base: &[u8]) -> Option<bool> {
    let name = rdns(name)?;
    let base = rdns(base)?;
    Some(base.len() <= name.len() && base.iter().zip(&name).all(|(b, n)| b == n))
}

/// The RelativeDistinguishedName elements of a Name (a SEQUENCE of SETs).
fn rdns(name: &[u8]) -> Option<Vec<&[u8]>> {
    let (
        Element {
            tag: SEQUENCE,
            mut contents,
            ..
        },
        after,
    ) = element(name)?
    else {
        return None;
    };
    if !after.is_empty() {
        return None;
    }
    let mut found = Vec::new();
    while !contents.is_empty() {
        let (
            Element {
                tag: SET, whole, ..
            },
            rest,
        ) = element(contents)?
        else {
            return None;
        };
        found.push(whole);
        contents = rest;
    }
    Some(found)
}

#[cfg(test)]
mod properties;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_within_bounds() {
        let (first, rest) = element(&[0x30, 0x02, 0x05, 0x00, 0xff]).unwrap();
        assert_eq!(first.tag, 0x30);
        assert_eq!(first.contents, &[0x05, 0x00]);
        assert_eq!(first.whole, &[0x30, 0x02, 0x05, 0x00]);
        assert_eq!(rest, &[0xff]);
        // Long form, and lengths past the input.
        let long = [0x04, 0x81, 0x01, 0xaa];
        assert_eq!(element(&long).map(|e| e.0.contents), Some(&[0xaa][..]));
        assert!(element(&[0x04, 0x05, 0x00]).is_none());
        assert!(element(&[0x04, 0x85, 0xff, 0xff, 0xff, 0xff, 0xff]).is_none());
        assert!(element(&[0x04, 0x80]).is_none());
        assert!(element(&[0x1f, 0x01, 0x00]).is_none());
        assert!(element(&[]).is_none());
    }

    #[test]
    fn dns_constraints_follow_rfc_5280() {
        let within = |name, base| dns_within(name, base).map(|w| (w.all, w.any));
        assert_eq!(within("example.com", "example.com"), Some((true, true)));
        assert_eq!(within("a.b.example.com", "example.com"), Some((true, true)));
        assert_eq!(
            within("notexample.com", "example.com"),
            Some((false, false))
        );
        assert_eq!(within("example.com", ".example.com"), Some((false, false)));
        assert_eq!(within("a.example.com", ".example.com"), Some((true, true)));
        // A wildcard is inside when all it stands for is; it may hit an excluded name under it.
        assert_eq!(within("*.example.com", "example.com"), Some((true, true)));
        assert_eq!(
            within("*.example.com", "bar.example.com"),
            Some((false, true))
        );
        assert_eq!(
            within("*.example.com", "a.bar.example.com"),
            Some((false, false))
        );
        assert_eq!(within("*.com", "example.com"), Some((false, true)));
        assert_eq!(within("a_b.example.com", "example.com"), None);
    }

    #[test]
    fn ip_constraints_need_the_same_family() {
        let net = [192, 0, 2, 0, 255, 255, 255, 0];
        assert_eq!(ip_within(&[192, 0, 2, 1], &net), Some(true));
        assert_eq!(ip_within(&[192, 0, 3, 1], &net), Some(false));
        assert_eq!(ip_within(&[0; 16], &net), Some(false));
        assert_eq!(ip_within(&[1, 2, 3], &net), None);
        assert!(contiguous_mask(&[255, 255, 255, 0]));
        assert!(!contiguous_mask(&[255, 0, 255, 0]));
    }

    #[test]
    fn directory_names_match_by_leading_rdns() {
        // SEQUENCE { SET { SEQUENCE { cn, "foo" } } } and with a second RDN.
        let cn = |value: &[u8]| {
            let mut atv = vec![0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, value.len() as u8];
            atv.extend_from_slice(value);
            let mut seq = vec![0x30, atv.len() as u8];
            seq.extend(atv);
            let mut set = vec![0x31, seq.len() as u8];
            set.extend(seq);
            set
        };
        let name = |rdns: &[Vec<u8>]| {
            let inner: Vec<u8> = rdns.concat();
            let mut out = vec![0x30, inner.len() as u8];
            out.extend(inner);
            out
        };
        let foo = name(&[cn(b"foo")]);
        let foo_bar = name(&[cn(b"foo"), cn(b"bar")]);
        let not_foo = name(&[cn(b"not-foo")]);
        assert_eq!(dn_within(&foo, &foo), Some(true));
        assert_eq!(dn_within(&foo_bar, &foo), Some(true));
        assert_eq!(dn_within(&foo, &foo_bar), Some(false));
        assert_eq!(dn_within(&not_foo, &foo), Some(false));
        assert_eq!(dn_within(&[0x30, 0x01, 0x31], &foo), None);
    }
}
