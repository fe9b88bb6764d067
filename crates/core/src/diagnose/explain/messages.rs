//! What TLS libraries, mail clients, apps and servers write when a certificate is refused: error
//! codes and their sentences (NSS, Windows, OpenSSL, GnuTLS, Apple, Java, Python, Go, .NET, curl)
//! and the lines of Postfix, Dovecot and PHP/Roundcube logs. Pure data with its sources; the
//! corpus in tests/data/explain/pasted.toml holds real texts each entry must recognise.
//!
//! A pattern is matched in the pasted text lower-cased, with white space folded and typographic
//! quotes made plain ([`fold`]); patterns are written in that form.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

crate::vocabulary::vocabulary! {
    /// What the pasted text says is wrong.
    pub enum Finding {
        /// The certificate does not name the server the client asked for.
        WrongName => "wrong-name",
        /// A certificate has expired.
        Expired => "expired",
        /// A certificate is not valid yet (often the device's clock).
        NotYetValid => "not-yet-valid",
        /// The server's certificate is self-signed (or a self-signed root is in the chain).
        SelfSigned => "self-signed",
        /// The issuer is not known: a private CA, or an intermediate the server does not send.
        UnknownIssuer => "unknown-issuer",
        /// The server does not send its intermediate certificate (the text says so: "unable to
        /// verify the first certificate").
        MissingIntermediate => "missing-intermediate",
        /// Not trusted, without saying why.
        Untrusted => "untrusted",
        /// The certificate was revoked.
        Revoked => "revoked",
        /// A key or signature algorithm the client refuses (RSA under 2048 bits, SHA-1, MD5).
        WeakAlgorithm => "weak-algorithm",
        /// The server offers only TLS versions the client refuses (or none it knows).
        OldTls => "old-tls",
        /// No cipher suite in common.
        NoCommonCipher => "no-common-cipher",
        /// The client refused the server's certificate (seen from the server's side: an alert
        /// in its log), without saying why.
        RefusedByClient => "refused-by-client",
        /// The TLS handshake failed, without saying why.
        HandshakeFailed => "handshake-failed",
    }
}

crate::vocabulary::vocabulary! {
    /// Who writes the text.
    pub enum Producer {
        /// NSS, as in Thunderbird and Firefox (codes, error pages, dialogs).
        Nss => "nss",
        /// Windows: CryptoAPI/Schannel codes, Outlook, the Mail app, .NET.
        Windows => "windows",
        /// OpenSSL (s_client, and the libraries built on it: PHP, Python, Ruby, Postfix).
        Openssl => "openssl",
        /// GnuTLS (gnutls-cli, Evolution, Geary).
        Gnutls => "gnutls",
        /// Apple Mail on iOS and macOS.
        Apple => "apple",
        /// Java and Android (K-9 Mail/Thunderbird for Android, JavaMail).
        Java => "java",
        /// Python's ssl module.
        Python => "python",
        /// Go's crypto/tls and crypto/x509.
        Go => "go",
        /// .NET and MailKit.
        Dotnet => "dotnet",
        /// curl.
        Curl => "curl",
        /// Postfix's logs.
        Postfix => "postfix",
        /// Dovecot's logs.
        Dovecot => "dovecot",
        /// PHP, Roundcube and PHPMailer.
        Php => "php",
        /// Node.js (Nodemailer).
        Node => "node",
        /// rustls (Rust mail tools: himalaya, lettre, async-imap).
        Rustls => "rustls",
    }
}

impl Producer {
    /// The producer, for people.
    pub fn name(self) -> &'static str {
        match self {
            Producer::Nss => "NSS (Thunderbird, Firefox)",
            Producer::Windows => "Windows (Outlook, Mail, .NET)",
            Producer::Openssl => "OpenSSL",
            Producer::Gnutls => "GnuTLS (Evolution, Geary)",
            Producer::Apple => "Apple Mail",
            Producer::Java => "Java/Android (K-9 Mail, Thunderbird for Android)",
            Producer::Python => "Python",
            Producer::Go => "Go",
            Producer::Dotnet => ".NET (MailKit)",
            Producer::Curl => "curl",
            Producer::Postfix => "Postfix's log",
            Producer::Dovecot => "Dovecot's log",
            Producer::Php => "PHP (Roundcube, PHPMailer)",
            Producer::Node => "Node.js (Nodemailer)",
            Producer::Rustls => "rustls",
        }
    }
}

/// One message a producer writes.
#[derive(Debug, PartialEq, Eq)]
pub struct Message {
    /// Stable id: producer and the message's own name or code.
    pub id: &'static str,
    /// Who writes it.
    pub producer: Producer,
    /// What it says is wrong.
    pub finding: Finding,
    /// Its forms, folded (any one matches): codes, numbers, sentences.
    pub patterns: &'static [&'static str],
    /// Where the words come from.
    pub source: &'static str,
    /// When the text also holds one of these phrases (folded), what it says is this finding
    /// instead (Go's "expired or is not yet valid: current time ... is before ...").
    pub instead: &'static [(&'static str, Finding)],
}

const NSS_ERRORS: &str = "NSS lib/util/SECerrs.h, lib/ssl/SSLerrs.h; mozilla::pkix pkixnss.h; \
                          Firefox/Thunderbird toolkit/locales/en-US/toolkit/neterror/\
                          certError.ftl and security/manager/locales/en-US/security/\
                          certificates/certManager.ftl";
const NSS_PAGE: &str = "Firefox/Thunderbird certificate error page, \
                        toolkit/locales/en-US/toolkit/neterror/certError.ftl";
const WINERROR: &str = "Windows SDK winerror.h (FormatMessage texts)";
const OPENSSL_TXT: &str = "OpenSSL crypto/x509/x509_txt.c (X509_verify_cert_error_string), \
                           include/openssl/x509_vfy.h (numbers); ssl/ssl_err.c";
const GNUTLS_CLI: &str = "GnuTLS lib/cert-session.c, lib/x509/verify-high.c and \
                          gnutls_certificate_verification_status_print (lib/x509/output.c); \
                          src/cli.c";
const APPLE_MAIL: &str = "Apple Mail on iOS/macOS dialogs; Apple Support HT204398 and \
                          Security framework SecTrust result strings";
const JAVA_SSL: &str = "OpenJDK sun.security.util.HostnameChecker, sun.security.validator, \
                        sun.security.provider.certpath; Apache HttpClient \
                        DefaultHostnameVerifier; Android conscrypt/OkHostnameVerifier";
const PYTHON_SSL: &str = "CPython Modules/_ssl.c (fill_and_set_sslerror) and Lib/ssl.py";
const GO_X509: &str = "Go src/crypto/x509/verify.go (HostnameError, UnknownAuthorityError, \
                       CertificateInvalidError)";
const DOTNET: &str = "dotnet/runtime System.Net.Security SslPolicyErrors and strings \
                      (net_ssl_io_no_server_cert...); MailKit SslHandshakeException";
const CURL: &str = "curl lib/vtls/openssl.c (verifyhost) and the curl(1) exit codes 35, 51, 60";
const POSTFIX: &str = "Postfix src/tls/tls_client.c, tls_verify.c, src/smtp/smtp_proto.c \
                       (TLS_LOG_* messages)";
const DOVECOT: &str = "Dovecot src/lib-ssl-iostream (openssl_iostream_error) and \
                       login-common client disconnect reasons";
const PHP: &str = "php-src ext/openssl/xp_ssl.c (php_openssl_matches_common_name, \
                   php_openssl_apply_peer_verification_policy); Roundcube rcube_imap_generic; \
                   PHPMailer language/phpmailer.lang";

macro_rules! messages {
    ($( $id:literal, $producer:ident, $finding:ident, $source:expr, [$($pattern:literal),+ $(,)?]
        $(instead [$(($phrase:literal, $other:ident)),+])?; )+) => {
        /// Every message, in no particular order (matches are ranked by where they stand).
        pub static MESSAGES: &[Message] = &[
            $( Message {
                id: $id,
                producer: Producer::$producer,
                finding: Finding::$finding,
                patterns: &[$($pattern),+],
                source: $source,
                instead: &[$($(($phrase, Finding::$other)),+)?],
            }, )+
        ];
    };
}

messages! {
    // NSS: Thunderbird, Firefox, SeaMonkey, Evolution built with NSS.
    "nss/ssl-error-bad-cert-domain", Nss, WrongName, NSS_ERRORS, [
        "ssl_error_bad_cert_domain",
        "uses an invalid security certificate. the certificate is only valid for",
        "the certificate is only valid for",
        "the certificate is not valid for the name",
        "uses a certificate that is not valid for",
        "security certificate that is not valid for",
        "because it uses a certificate that is not valid",
        "unable to communicate securely with peer: requested domain name does not match the server's certificate",
        "requested domain name does not match the server's certificate",
        "error -12276",
        "-12276",
    ];
    "nss/sec-error-unknown-issuer", Nss, UnknownIssuer, NSS_ERRORS, [
        "sec_error_unknown_issuer",
        "the certificate is not trusted because the issuer certificate is unknown",
        "issuer certificate is unknown",
        "the server might not be sending the appropriate intermediate certificates",
        "an additional root certificate may need to be imported",
        "peer's certificate issuer is not recognized",
        "its certificate issuer is unknown",
        "-8179",
    ];
    "nss/no-issuer-chain", Nss, MissingIntermediate, NSS_ERRORS, [
        "the certificate is not trusted because no issuer chain was provided",
        "no issuer chain was provided",
    ];
    "nss/ocsp", Nss, Untrusted, NSS_ERRORS, [
        "sec_error_ocsp_unknown_cert",
        "sec_error_ocsp_old_response",
        "sec_error_ocsp_invalid_signing_cert",
        "sec_error_ocsp_server_error",
        "the ocsp server has no status for the certificate",
        "the ocsp response contains out-of-date information",
        "mozilla_pkix_error_ocsp_response_for_cert_missing",
    ];
    "nss/sec-error-untrusted-issuer", Nss, Untrusted, NSS_ERRORS, [
        "sec_error_untrusted_issuer",
        "peer's certificate issuer has been marked as not trusted",
        "the certificate is not trusted because the issuer certificate is not trusted",
        "the certificate is not trusted because it was issued by an invalid ca certificate",
        "-8172",
    ];
    "nss/self-signed", Nss, SelfSigned, NSS_ERRORS, [
        "mozilla_pkix_error_self_signed_cert",
        "sec_error_ca_cert_invalid",
        "the certificate is not trusted because it is self-signed",
        "it uses a self-signed certificate",
        "-16384",
    ];
    "nss/sec-error-expired-certificate", Nss, Expired, NSS_ERRORS, [
        "sec_error_expired_certificate",
        "peer's certificate has expired",
        "the certificate expired on",
        "the certificate has expired",
        "the certificate is not valid at the current time",
        "-8181",
    ];
    "nss/sec-error-expired-issuer-certificate", Nss, Expired, NSS_ERRORS, [
        "sec_error_expired_issuer_certificate",
        "the certificate issuer's certificate has expired",
        "issuer certificate has expired",
        "-8162",
    ];
    "nss/not-yet-valid", Nss, NotYetValid, NSS_ERRORS, [
        "mozilla_pkix_error_not_yet_valid_certificate",
        "mozilla_pkix_error_not_yet_valid_issuer_certificate",
        "sec_error_cert_not_valid_yet",
        "the certificate will not be valid until",
        "will not be valid until",
        "the certificate is not yet valid",
        "the server presented a certificate that is not yet valid",
        "-16385",
    ];
    "nss/sec-error-revoked-certificate", Nss, Revoked, NSS_ERRORS, [
        "sec_error_revoked_certificate",
        "peer's certificate has been revoked",
        "ssl_error_revoked_cert_alert",
    ];
    "nss/weak-algorithm", Nss, WeakAlgorithm, NSS_ERRORS, [
        "sec_error_cert_signature_algorithm_disabled",
        "mozilla_pkix_error_inadequate_key_size",
        "signed using a signature algorithm that was disabled because that algorithm is not secure",
        "the server presented a certificate with a key size that is too small",
        "ssl_error_weak_server_cert_key",
    ];
    "nss/ssl-error-no-cypher-overlap", Nss, NoCommonCipher, NSS_ERRORS, [
        "ssl_error_no_cypher_overlap",
        "cannot communicate securely with peer: no common encryption algorithm(s)",
        "no common encryption algorithm",
    ];
    "nss/ssl-error-unsupported-version", Nss, OldTls, NSS_ERRORS, [
        "ssl_error_unsupported_version",
        "ssl_error_protocol_version_alert",
        "peer using unsupported version of security protocol",
        "this website might not support the tls 1.2 protocol",
        "uses outdated or unsafe tls",
    ];
    "nss/sec-error-bad-signature", Nss, Untrusted, NSS_ERRORS, [
        "sec_error_bad_signature",
        "mozilla_pkix_error_mitm_detected",
        "sec_error_inadequate_key_usage",
        "sec_error_inadequate_cert_type",
        "peer's certificate has an invalid signature",
    ];
    "nss/error-page", Nss, Untrusted, NSS_PAGE, [
        "warning: potential security risk ahead",
        "did not connect: potential security issue",
        "someone could be trying to impersonate the site",
        "secure connection failed",
    ];

    // Windows: CryptoAPI, Schannel (Outlook, the Mail app, .NET on Windows).
    "windows/cert-e-cn-no-match", Windows, WrongName, WINERROR, [
        "cert_e_cn_no_match",
        "800b010f",
        "-2146762481",
        "the certificate's cn name does not match the passed value",
        "the certificate's common name does not match",
    ];
    "windows/sec-e-wrong-principal", Windows, WrongName, WINERROR, [
        "sec_e_wrong_principal",
        "80090322",
        "-2146893022",
        "the target principal name is incorrect",
    ];
    "windows/cert-e-untrustedroot", Windows, UnknownIssuer, WINERROR, [
        "cert_e_untrustedroot",
        "800b0109",
        "-2146762487",
        "a certificate chain processed but terminated in a root certificate which is not trusted by the trust provider",
        "terminated in a root certificate which is not trusted",
        "terminated in a root certificate that is not trusted",
    ];
    "windows/sec-e-untrusted-root", Windows, UnknownIssuer, WINERROR, [
        "sec_e_untrusted_root",
        "80090325",
        "-2146893019",
        "the certificate chain was issued by an authority that is not trusted",
    ];
    "windows/cert-e-chaining", Windows, UnknownIssuer, WINERROR, [
        "cert_e_chaining",
        "800b010a",
        "-2146762486",
        "a certificate chain could not be built to a trusted root authority",
    ];
    "windows/cert-e-expired", Windows, Expired, WINERROR, [
        "cert_e_expired",
        "800b0101",
        "-2146762495",
        "a required certificate is not within its validity period when verifying against the current system clock or the timestamp in the signed file",
        "not within its validity period",
        "sec_e_cert_expired",
        "80090328",
        "the received certificate has expired",
    ];
    "windows/cert-e-revoked", Windows, Revoked, WINERROR, [
        "cert_e_revoked",
        "800b010c",
        "a certificate was explicitly revoked by its issuer",
        "crypt_e_revoked",
        "80092010",
    ];
    "windows/sec-e-algorithm-mismatch", Windows, NoCommonCipher, WINERROR, [
        "sec_e_algorithm_mismatch",
        "80090331",
        "the client and server cannot communicate because they do not possess a common algorithm",
    ];
    "windows/revocation", Windows, Untrusted, WINERROR, [
        "crypt_e_revocation_offline",
        "crypt_e_no_revocation_check",
        "80092013",
        "80092012",
        "the revocation function was unable to check revocation",
    ];
    "windows/sec-e-cert-unknown", Windows, Untrusted, WINERROR, [
        "sec_e_cert_unknown",
        "80090327",
        "an unknown error occurred while processing the certificate",
        "the security certificate on the server is not valid",
    ];
    "windows/wininet-invalid-ca", Windows, UnknownIssuer, "Windows SDK wininet.h \
                                                            (ERROR_INTERNET_INVALID_CA 12045)", [
        "error_internet_invalid_ca",
        "80072f0d",
        "the certificate authority is invalid or incorrect",
    ];
    "windows/wininet-cn-invalid", Windows, WrongName, "Windows SDK wininet.h \
                                                       (ERROR_INTERNET_SEC_CERT_CN_INVALID 12038)", [
        "error_internet_sec_cert_cn_invalid",
        "80072f06",
        "the target principle name is incorrect",
    ];
    "windows/wininet-date-invalid", Windows, Expired, "Windows SDK wininet.h \
                                                       (ERROR_INTERNET_SEC_CERT_DATE_INVALID 12037)", [
        "error_internet_sec_cert_date_invalid",
        "80072f05",
    ];
    "windows/outlook-security-warning", Windows, Untrusted, "Outlook's Internet Security Warning \
                                                            (KB 2783881) and Security Alert dialogs", [
        "the server you are connected to is using a security certificate that cannot be verified",
        "the security certificate has expired or is not yet valid",
    ];
    "windows/mail-app", Windows, Untrusted, "Windows Mail app (Windows 10/11) account errors", [
        "there's a problem with the server's security certificate",
        "there is a problem with the server's security certificate",
        "the server's security certificate isn't valid",
    ];
    "dotnet/remote-certificate-invalid", Dotnet, Untrusted, DOTNET, [
        "the remote certificate is invalid according to the validation procedure",
        "the remote certificate was rejected by the provided remotecertificatevalidationcallback",
        "the remote certificate is invalid because of errors in the certificate chain",
        "remotecertificatechainerrors",
    ];
    "dotnet/chain-untrusted-root", Dotnet, UnknownIssuer, DOTNET, [
        "untrustedroot",
        "x509chainstatusflags.untrustedroot",
    ];
    "dotnet/chain-partial", Dotnet, MissingIntermediate, DOTNET, [
        "partialchain",
        "x509chainstatusflags.partialchain",
    ];
    "dotnet/chain-not-time-valid", Dotnet, Expired, DOTNET, [
        "nottimevalid",
        "x509chainstatusflags.nottimevalid",
    ];
    "dotnet/chain-revoked", Dotnet, Revoked, DOTNET, [
        "errors in the certificate chain: revoked",
    ];
    "dotnet/mailkit-generic", Dotnet, HandshakeFailed, DOTNET, [
        "an error occurred while attempting to establish an ssl or tls connection",
        "sslhandshakeexception: an error occurred",
    ];
    "dotnet/name-mismatch", Dotnet, WrongName, DOTNET, [
        "remotecertificatenamemismatch",
        "the host name did not match the name given in the server's ssl certificate",
        "the server's ssl certificate could not be validated for the following reasons: the server certificate has the following errors: the host name did not match",
    ];

    // OpenSSL: verify results as s_client prints them, and as libraries pass them on.
    "openssl/hostname-mismatch", Openssl, WrongName, OPENSSL_TXT, [
        "num=62:hostname mismatch",
        "verify error:num=62",
        "verify return code: 62",
        "x509_v_err_hostname_mismatch",
        "hostname mismatch",
        "num=64:ip address mismatch",
        "ip address mismatch",
    ];
    "openssl/certificate-has-expired", Openssl, Expired, OPENSSL_TXT, [
        "num=10:certificate has expired",
        "verify return code: 10",
        "x509_v_err_cert_has_expired",
        "cert_has_expired",
        "certificate has expired",
        "sslv3 alert certificate expired",
        "tlsv1 alert certificate expired",
        "alert certificate expired",
    ];
    "openssl/certificate-not-yet-valid", Openssl, NotYetValid, OPENSSL_TXT, [
        "num=9:certificate is not yet valid",
        "x509_v_err_cert_not_yet_valid",
        "cert_not_yet_valid",
        "certificate is not yet valid",
        "certificate not yet valid",
    ];
    "openssl/self-signed", Openssl, SelfSigned, OPENSSL_TXT, [
        "num=18:self-signed certificate",
        "num=18:self signed certificate",
        "x509_v_err_depth_zero_self_signed_cert",
        "depth_zero_self_signed_cert",
        ": self-signed certificate",
        ": self signed certificate",
    ];
    "openssl/self-signed-in-chain", Openssl, UnknownIssuer, OPENSSL_TXT, [
        "num=19:self-signed certificate in certificate chain",
        "num=19:self signed certificate in certificate chain",
        "x509_v_err_self_signed_cert_in_chain",
        "self_signed_cert_in_chain",
        ": self-signed certificate in certificate chain",
        ": self signed certificate in certificate chain",
        "self-signed certificate in certificate chain",
        "self signed certificate in certificate chain",
    ];
    "openssl/unable-to-get-local-issuer", Openssl, UnknownIssuer, OPENSSL_TXT, [
        "num=20:unable to get local issuer certificate",
        "num=2:unable to get issuer certificate",
        "x509_v_err_unable_to_get_issuer_cert_locally",
        "unable_to_get_issuer_cert_locally",
        "unable to get local issuer certificate",
        "unable to get issuer certificate",
        "tlsv1 alert unknown ca",
        "alert unknown ca",
    ];
    "openssl/unable-to-verify-first", Openssl, MissingIntermediate, OPENSSL_TXT, [
        "num=21:unable to verify the first certificate",
        "x509_v_err_unable_to_verify_leaf_signature",
        "unable_to_verify_leaf_signature",
        "unable to verify the first certificate",
    ];
    "openssl/certificate-revoked", Openssl, Revoked, OPENSSL_TXT, [
        "num=23:certificate revoked",
        "x509_v_err_cert_revoked",
        "sslv3 alert certificate revoked",
    ];
    "openssl/weak-key", Openssl, WeakAlgorithm, OPENSSL_TXT, [
        "ee key too small",
        "ca key too small",
        "ca md too weak",
        "ee certificate key too weak",
        "ca certificate key too weak",
        "certificate key too weak",
        "num=66:ee key too small",
        "num=67:ca key too small",
        "num=68:ca md too weak",
    ];
    "openssl/verify-failed", Openssl, Untrusted, OPENSSL_TXT, [
        "certificate verify failed",
        "0a000086",
        "14090086",
        "1416f086",
        "verify return code: 7",
        "certificate signature failure",
    ];
    "openssl/alert-from-client", Openssl, RefusedByClient, OPENSSL_TXT, [
        "sslv3 alert certificate unknown",
        "alert certificate unknown",
        "sslv3 alert bad certificate",
        "alert bad certificate",
        "0a000416",
        "0a000412",
        "ssl alert number 46",
        "ssl alert number 42",
    ];
    "openssl/protocol-version", Openssl, OldTls, OPENSSL_TXT, [
        "unsupported protocol",
        "wrong version number",
        "tlsv1 alert protocol version",
        "alert protocol version",
        "no protocols available",
        "0a000102",
        "0a00018a",
    ];
    "openssl/no-shared-cipher", Openssl, NoCommonCipher, OPENSSL_TXT, [
        "no shared cipher",
        "no ciphers available",
        "0a0000c1",
    ];
    "openssl/handshake-failure", Openssl, HandshakeFailed, OPENSSL_TXT, [
        "sslv3 alert handshake failure",
        "alert handshake failure",
        "0a000410",
    ];

    // GnuTLS.
    "gnutls/name-mismatch", Gnutls, WrongName, GNUTLS_CLI, [
        "the name in the certificate does not match the expected",
        "gnutls_cert_unexpected_owner",
        "certificate owner is unexpected",
        "certificate owner does not match hostname",
        "the certificate's owner does not match hostname",
    ];
    "gnutls/issuer-unknown", Gnutls, UnknownIssuer, GNUTLS_CLI, [
        "the signing certificate authority is not known",
        "the certificate issuer is unknown",
        "gnutls_cert_signer_not_found",
        "the certificate's issuer is not known",
        "signer not found",
    ];
    "gnutls/expired", Gnutls, Expired, GNUTLS_CLI, [
        "the certificate chain uses expired certificate",
        "gnutls_cert_expired",
    ];
    "gnutls/not-activated", Gnutls, NotYetValid, GNUTLS_CLI, [
        "the certificate chain uses not yet valid certificate",
        "gnutls_cert_not_activated",
    ];
    "gnutls/revoked", Gnutls, Revoked, GNUTLS_CLI, [
        "the certificate chain is revoked",
        "gnutls_cert_revoked",
    ];
    "gnutls/insecure-algorithm", Gnutls, WeakAlgorithm, GNUTLS_CLI, [
        "the certificate chain uses insecure algorithm",
        "gnutls_cert_insecure_algorithm",
    ];
    "gnutls/not-trusted", Gnutls, Untrusted, GNUTLS_CLI, [
        "the certificate is not trusted",
        "pki verification of server certificate failed",
        "error in the certificate verification",
        "gnutls_e_certificate_verification_error",
        "gtlscertificateflags",
        "g_tls_certificate_unknown_ca",
    ];
    "gnutls/handshake-failed", Gnutls, HandshakeFailed, GNUTLS_CLI, [
        "handshake has failed",
        "gnutls_e_unsupported_version_packet",
        "a tls packet with unexpected length was received",
        "the tls connection was non-properly terminated",
        "no supported cipher suites have been found",
        "could not negotiate a supported cipher suite",
    ];

    // Apple Mail (iOS, iPadOS, macOS) and Outlook for Mac.
    "apple/sectrust-name", Apple, WrongName, APPLE_MAIL, [
        "\" certificate name does not match input",
        "certificate name does not match input",
    ];
    "apple/sectrust-expired", Apple, Expired, APPLE_MAIL, [
        "\" certificate is expired",
    ];
    "apple/sectrust-not-trusted", Apple, Untrusted, APPLE_MAIL, [
        "\" certificate is not trusted",
        "when connecting to \"",
    ];
    "apple/sectrust-weak-key", Apple, WeakAlgorithm, APPLE_MAIL, [
        "\" certificate is using a broken key size",
        "certificate is using a broken key size",
    ];
    "apple/sectrust-missing-intermediate", Apple, MissingIntermediate, APPLE_MAIL, [
        "unable to build chain to root (possible missing intermediate)",
        "possible missing intermediate",
    ];
    "apple/cannot-verify-server-identity", Apple, Untrusted, APPLE_MAIL, [
        "\" cannot be verified",
        "cannot verify server identity",
        "cannot be verified by mail",
        "can't verify the identity of the server",
        "cannot verify the identity of the server",
        "mail can't verify the identity of the server",
        "the certificate for this server is invalid",
        "you might be connecting to a server that is pretending to be",
    ];
    "apple/host-name-mismatch", Apple, WrongName, APPLE_MAIL, [
        "host name mismatch",
        "does not match the host name",
        "this certificate is not valid (host name mismatch)",
    ];
    "apple/unknown-authority", Apple, UnknownIssuer, APPLE_MAIL, [
        "was signed by an unknown authority",
        "signed by an unknown authority",
        "this certificate was signed by an untrusted issuer",
        "root certificate is not trusted",
    ];
    "apple/expired", Apple, Expired, APPLE_MAIL, [
        "this certificate has expired",
    ];
    "outlook-mac/cannot-verify", Apple, Untrusted, "Outlook for Mac (Microsoft Support: \
                                                   'Outlook for Mac ... server certificate')", [
        "outlook cannot connect securely to",
        "outlook can't connect securely to",
        "outlook was unable to verify the certificate",
    ];
    "outlook-mac/intermediate-root", Apple, UnknownIssuer, "Outlook for Mac (Microsoft KB 3066652)", [
        "because its intermediate or root certificate cannot be found",
    ];

    // Java and Android (K-9 Mail/Thunderbird for Android, JavaMail, Apache HttpClient).
    "java/peer-unverified", Java, WrongName, JAVA_SSL, [
        "doesn't match any of the subject alternative names",
        "no subject alternative dns name matching",
        "no subject alternative names matching ip address",
        "no subject alternative names present",
        "doesn't match common name of the certificate subject",
        "can't verify identity of server",
        "certificate domain name does not match",
        "no name matching",
        "sslpeerunverifiedexception",
        "hostname verification failed",
        "not verified:",
    ];
    "java/pkix-path", Java, UnknownIssuer, JAVA_SSL, [
        "pkix path building failed",
        "unable to find valid certification path to requested target",
        "trust anchor for certification path not found",
        "sun.security.provider.certpath.suncertpathbuilderexception",
        "certpathvalidatorexception",
    ];
    "java/expired", Java, Expired, JAVA_SSL, [
        "java.security.cert.certificateexpiredexception",
        "certificateexpiredexception",
        "validity check failed",
    ];
    "java/not-yet-valid", Java, NotYetValid, JAVA_SSL, [
        "certificatenotyetvalidexception",
    ];
    "android/k9-certificate-error", Java, Untrusted, "K-9 Mail / Thunderbird for Android \
                                                      strings.xml (account_setup_failed_dlg_certificate_message_fmt, \
                                                      certificate_error)", [
        "certificate error for",
        "unrecognized certificate",
        "warning: certificate error",
        "the app detected a potential security threat",
        "the server presented an invalid ssl certificate",
        "accept key",
        "reject key",
    ];
    "java/handshake", Java, HandshakeFailed, JAVA_SSL, [
        "sslhandshakeexception",
        "no appropriate protocol (protocol is disabled or cipher suites are inappropriate)",
    ];

    // Python, Go, curl.
    "python/hostname-mismatch", Python, WrongName, PYTHON_SSL, [
        "hostname mismatch certificate is not valid for",
        "ip address mismatch certificate is not valid for",
        "ssl.certificateerror: hostname",
        "doesn't match either of",
    ];
    "python/cert-verify", Python, Untrusted, PYTHON_SSL, [
        "sslcertverificationerror",
        "[ssl: certificate_verify_failed]",
        "certificate_verify_failed",
    ];
    "go/hostname", Go, WrongName, GO_X509, [
        "x509: certificate is valid for",
        "x509: certificate is not valid for any names",
        "x509: cannot validate certificate for",
    ];
    "go/unknown-authority", Go, UnknownIssuer, GO_X509, [
        "x509: certificate signed by unknown authority",
    ];
    "go/expired", Go, Expired, GO_X509, [
        "x509: certificate has expired or is not yet valid",
    ] instead [(" is before ", NotYetValid)];
    "go/legacy-common-name", Go, WrongName, GO_X509, [
        "x509: certificate relies on legacy common name field",
    ];
    "curl/name", Curl, WrongName, CURL, [
        "no alternative certificate subject name matches target host",
        "ssl: certificate subject name",
        "does not match target host",
        "curl: (51)",
        "ssl peer certificate or ssh remote key was not ok",
    ];
    "curl/ssl-certificate-problem", Curl, Untrusted, CURL, [
        "ssl certificate problem:",
        "curl: (60)",
        "peer certificate cannot be authenticated with given ca certificates",
        "curl failed to verify the legitimacy of the server",
    ];

    // Server and application logs.
    "postfix/untrusted-tls", Postfix, Untrusted, POSTFIX, [
        "untrusted tls connection established to",
        "server certificate verification failed for",
        "certificate verification failed for",
        "server certificate not verified",
        "server certificate not trusted",
        "not trusted by local or tlsa policy",
    ] instead [(": trusted tls connection established", WrongName)];
    "postfix/untrusted-issuer", Postfix, UnknownIssuer, POSTFIX, [
        ": untrusted issuer",
    ] instead [(": trusted tls connection established", WrongName)];
    "postfix/name-mismatch", Postfix, WrongName, POSTFIX, [
        "server name mismatch",
        "certificate name mismatch",
        "peer certificate name mismatch",
        "server certificate name mismatch",
    ];
    "postfix/handshake", Postfix, HandshakeFailed, POSTFIX, [
        "cannot start tls: handshake failure",
        "tls handshake failed",
        "lost connection after starttls",
        "ssl_accept error from",
        "ssl_connect error to",
    ];
    "dovecot/tls-handshake", Dovecot, RefusedByClient, DOVECOT, [
        "tls handshaking: ssl_accept() failed",
        "ssl_accept() failed",
        "tls handshaking: connection closed",
        "tls handshaking: disconnected",
    ];
    "dovecot/no-certificate", Dovecot, HandshakeFailed, DOVECOT, [
        "ssl certificate not received",
    ];
    "dovecot/name-mismatch", Dovecot, WrongName, DOVECOT, [
        "ssl certificate doesn't match expected host name",
        "doesn't match expected host name",
    ];
    "node/altnames", Node, WrongName, "Node.js lib/tls.js (checkServerIdentity: \
                                           ERR_TLS_CERT_ALTNAME_INVALID)", [
        "err_tls_cert_altname_invalid",
        "hostname/ip doesn't match certificate's altnames",
        "hostname/ip does not match certificate's altnames",
    ];
    "rustls/not-valid-for-name", Rustls, WrongName, "rustls CertificateError::NotValidForName \
                                                    (Display: invalid peer certificate)", [
        "invalid peer certificate: notvalidforname",
        "notvalidforname",
        "certificate not valid for name",
    ];
    "rustls/unknown-issuer", Rustls, UnknownIssuer, "rustls CertificateError::UnknownIssuer", [
        "invalid peer certificate: unknownissuer",
    ];
    "rustls/expired", Rustls, Expired, "rustls CertificateError::Expired", [
        "invalid peer certificate: expired",
    ];
    "php/cn-mismatch", Php, WrongName, PHP, [
        "did not match expected cn=",
        "peer certificate cn=",
        "stream_socket_enable_crypto(): peer certificate",
    ];
    "php/ssl-operation-failed", Php, HandshakeFailed, PHP, [
        "ssl operation failed with code 1",
        "failed to enable crypto",
        "could not connect to ssl://",
        "unable to connect to ssl://",
    ];
}

/// Folds text the way patterns are written: lower case, white space (line breaks too) one space,
/// typographic quotes and apostrophes plain, commas gone.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.chars() {
        let c = match c {
            '‘' | '’' | '`' | '´' => '\'',
            '“' | '”' | '«' | '»' | '„' => '"',
            '\u{a0}' => ' ',
            c => c,
        };
        if c == ',' {
            // Commas vary between a message's versions ("communicate, because").
            continue;
        }
        if c.is_whitespace() {
            if !space {
                out.push(' ');
                space = true;
            }
        } else {
            out.extend(c.to_lowercase());
            space = false;
        }
    }
    out
}

/// Every pattern of every message, with the message and pattern it is.
static PATTERNS: LazyLock<(AhoCorasick, Vec<(usize, usize)>)> = LazyLock::new(|| {
    let mut owners = Vec::new();
    let mut patterns = Vec::new();
    for (index, message) in MESSAGES.iter().enumerate() {
        for (number, pattern) in message.patterns.iter().enumerate() {
            patterns.push(*pattern);
            owners.push((index, number));
        }
    }
    // Standard semantics: every occurrence of every pattern, overlapping ones too.
    // A contiguous NFA: built in a fraction of a DFA's time, and fast enough for 1 MiB.
    let automaton = AhoCorasick::builder()
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .match_kind(MatchKind::Standard)
        .build(&patterns)
        .unwrap_or_else(|e| panic!("the message patterns are a fixed table: {e}"));
    (automaton, owners)
});

/// Most pattern occurrences looked at in one text (a log repeats the same lines).
const MAX_HITS: usize = 4_096;

/// One message found in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The message.
    pub message: &'static Message,
    /// Its form that matched (the longest, when several did).
    pub pattern: &'static str,
    /// What it says here (the message's finding, or its `instead`).
    pub finding: Finding,
    /// Where it first stands in the folded text.
    pub at: usize,
}

/// The messages in `folded` (see [`fold`]), each once, in the order they first stand. Every
/// occurrence counts, overlapping ones too ("SSL certificate problem: self-signed certificate"
/// holds curl's and OpenSSL's), except one inside a longer one of another message (OpenSSL's
/// "self-signed certificate" inside "self-signed certificate in certificate chain"). A bare
/// code is taken only where it stands as a word of its own.
pub fn find(folded: &str) -> Vec<Found> {
    let (automaton, owners) = &*PATTERNS;
    let hits: Vec<(usize, usize, usize, usize)> = automaton
        .find_overlapping_iter(folded)
        .take(MAX_HITS)
        .filter_map(|hit| {
            let (index, number) = owners[hit.pattern().as_usize()];
            let pattern = MESSAGES[index].patterns[number];
            (!is_number(pattern) || stands_alone(folded, hit.start(), hit.end())).then_some((
                hit.start(),
                hit.end(),
                index,
                number,
            ))
        })
        .collect();
    let mut found: Vec<Found> = Vec::new();
    for &(start, end, index, number) in &hits {
        let inside_another = hits
            .iter()
            .any(|&(s, e, i, _)| i != index && s <= start && end <= e && (e - s) > (end - start));
        if inside_another {
            continue;
        }
        let message = &MESSAGES[index];
        let pattern = message.patterns[number];
        let finding = message
            .instead
            .iter()
            .find(|(phrase, _)| folded.contains(phrase))
            .map_or(message.finding, |(_, other)| *other);
        match found.iter_mut().find(|f| std::ptr::eq(f.message, message)) {
            Some(earlier) if pattern.len() > earlier.pattern.len() => earlier.pattern = pattern,
            Some(_) => {}
            None => found.push(Found {
                message,
                pattern,
                finding,
                at: start,
            }),
        }
    }
    found.sort_by_key(|f| f.at);
    found
}

/// A numeric code (`-12276`, `800b010f`): it must not be part of a longer number or word.
fn is_number(pattern: &str) -> bool {
    pattern
        .trim_start_matches('-')
        .chars()
        .all(|c| c.is_ascii_hexdigit())
}

fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let is_part = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    // "0x800b010f": the 0x prefix is fine.
    let before_ok = !is_part(before) || text[..start].ends_with("0x");
    before_ok && !is_part(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<&'static str> {
        find(&fold(text)).iter().map(|f| f.message.id).collect()
    }

    #[test]
    fn patterns_are_folded_and_unique_per_message() {
        for message in MESSAGES {
            for pattern in message.patterns {
                assert_eq!(&fold(pattern), pattern, "{}", message.id);
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut forms = std::collections::HashMap::new();
        for message in MESSAGES {
            assert!(seen.insert(message.id), "{} twice", message.id);
            for pattern in message.patterns {
                // One form, one message: the automaton reports only one owner.
                if let Some(other) = forms.insert(*pattern, message.id) {
                    panic!("{pattern:?} in {other} and {}", message.id);
                }
            }
        }
    }

    #[test]
    fn codes_with_and_without_their_words() {
        assert_eq!(
            ids("Error code: SSL_ERROR_BAD_CERT_DOMAIN"),
            vec!["nss/ssl-error-bad-cert-domain"]
        );
        assert_eq!(ids("0x800B010F"), vec!["windows/cert-e-cn-no-match"]);
        assert_eq!(
            ids("error 0x800B010F (CERT_E_CN_NO_MATCH)"),
            vec!["windows/cert-e-cn-no-match"]
        );
        // A code inside a longer number is not the code.
        assert_eq!(ids("id 1800b010f7"), Vec::<&str>::new());
        assert_eq!(
            ids("verify error:num=62:hostname mismatch"),
            vec!["openssl/hostname-mismatch"]
        );
    }
}
