//! The words on the screen: what each mail client shows when it does not trust a certificate,
//! when it shows it, and where those words come from. Pure data; docs/clients.md lists every
//! dialog with its source, and `mailtls explain` matches pasted text against them.

use super::Client;
use crate::service::{Direction, Service};

crate::vocabulary::vocabulary! {
    /// When a dialog appears.
    pub enum When {
        /// At every start of the client (and when it refreshes its settings).
        AtStart => "at-start",
        /// On every connection to the server (each send/receive) until the user accepts it.
        EveryConnection => "every-connection",
        /// Once each time the client starts, at its first connection to the server.
        OncePerSession => "once-per-session",
        /// On the first connection; an exception the user stores silences it for good.
        UntilExceptionStored => "until-exception-stored",
        /// While the account is being set up.
        AccountSetup => "account-setup",
    }
}

crate::vocabulary::vocabulary! {
    /// What is wrong with the certificate, as far as the dialog's words go.
    pub enum Fault {
        /// It does not name the server the client asked for.
        WrongName => "wrong-name",
        /// It is outside its validity dates.
        Dates => "dates",
        /// It does not lead to a root the client trusts (self-signed, unknown CA, missing
        /// intermediate, weak algorithm).
        Untrusted => "untrusted",
    }
}

crate::vocabulary::vocabulary! {
    /// What the client was talking to when it met the certificate.
    pub enum Connection {
        /// A mail server (IMAP, POP3, SMTP).
        MailServer => "mail-server",
        /// A web server it asked for its settings (Outlook's Autodiscover).
        Settings => "settings",
    }
}

crate::vocabulary::vocabulary! {
    /// What the user is doing when a dialog appears.
    pub enum During {
        /// The client looks for the account's settings (Outlook's Autodiscover).
        FindingSettings => "finding-settings",
        /// It fetches mail (IMAP, POP3).
        CheckingMail => "checking-mail",
        /// It sends mail (submission).
        Sending => "sending",
    }
}

impl During {
    /// What the user is doing when `dialog` appears on `port` (a mail server's), when known.
    pub fn of(dialog: &Dialog, port: Option<u16>) -> Option<During> {
        match dialog.connection {
            Connection::Settings => Some(During::FindingSettings),
            Connection::MailServer => port.and_then(Service::for_port).map(|service| match service
                .direction()
            {
                Direction::Incoming => During::CheckingMail,
                Direction::Outgoing | Direction::Relay => During::Sending,
            }),
        }
    }
}

/// A line a dialog shows for one fault.
#[derive(Debug, PartialEq, Eq)]
pub struct Variant {
    /// The fault.
    pub fault: Fault,
    /// The line.
    pub line: &'static str,
    /// Whether a source settles this line's words (some are only transcribed by users).
    pub certain: bool,
}

/// One dialog, as the client shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Dialog {
    /// Stable identifier, e.g. `outlook/security-alert`.
    pub id: &'static str,
    /// The client.
    pub client: Client,
    /// What it was talking to.
    pub connection: Connection,
    /// The faults it is shown for.
    pub faults: &'static [Fault],
    /// The window's title (or the first line, where there is no title).
    pub title: &'static str,
    /// The text, line by line, as shown (a placeholder `{server}` stands for the name asked).
    pub text: &'static [&'static str],
    /// Lines that depend on the fault: the dialog shows the one for its fault.
    pub variants: &'static [Variant],
    /// When it appears.
    pub when: When,
    /// Where the words come from.
    pub source: &'static str,
    /// Whether the source settles the words for current versions.
    pub certain: bool,
}

impl Dialog {
    /// The line that says what is wrong for this fault: its variant, else the first line.
    pub fn key_line(&self, fault: Fault) -> &'static str {
        self.variants
            .iter()
            .find(|v| v.fault == fault)
            .map(|v| v.line)
            .or_else(|| self.text.first().copied())
            .unwrap_or(self.title)
    }

    /// Every line it may show: the text and the variants.
    pub fn lines(&self) -> impl Iterator<Item = &'static str> {
        self.text
            .iter()
            .copied()
            .chain(self.variants.iter().map(|v| v.line))
    }
}

/// Every dialog mailtls knows. For each client and connection the first that fits a fault is
/// the one shown (current versions first); the others are there so that `explain` recognises
/// their words too.
pub static DIALOGS: &[Dialog] = &[
    Dialog {
        id: "outlook/security-alert",
        client: Client::Outlook,
        connection: Connection::Settings,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Security Alert",
        text: &[
            "Information you exchange with this site cannot be viewed or changed by others. However, there is a problem with the site's security certificate.",
            "Do you want to proceed?",
        ],
        variants: &[
            Variant {
                fault: Fault::WrongName,
                line: "The name on the security certificate is invalid or does not match the name of the site",
                certain: true,
            },
            Variant {
                fault: Fault::Dates,
                line: "The security certificate has expired or is not valid yet",
                certain: false,
            },
            Variant {
                fault: Fault::Untrusted,
                line: "The security certificate was issued by a company you have not chosen to trust. View the certificate to determine whether you want to trust the certifying authority.",
                certain: true,
            },
        ],
        when: When::AtStart,
        source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/connectivity/certificate-error-when-start-outlook (KB 2772058: at every start and when Autodiscover runs again, about hourly); KB 2783881",
        certain: true,
    },
    Dialog {
        id: "outlook/allow-website-to-configure",
        client: Client::Outlook,
        connection: Connection::Settings,
        faults: &[],
        title: "Allow this website to configure {address} server settings?",
        text: &[
            "Your account was redirected to this website for settings.",
            "You should only allow settings from sources you know and trust.",
            "Don't ask me about this website again",
        ],
        variants: &[],
        when: When::AtStart,
        source: "https://learn.microsoft.com/en-us/troubleshoot/outlook/profiles-and-accounts/suppress-autodiscover-redirect-warning (KB 2480582)",
        certain: true,
    },
    Dialog {
        id: "outlook-mac/secure-connection",
        client: Client::Outlook,
        connection: Connection::Settings,
        faults: &[Fault::WrongName, Fault::Untrusted],
        title: "Outlook for Mac",
        text: &[
            "A secure connection cannot be established with the server {server} because its intermediate or root certificate cannot be found. Do you want to continue?",
        ],
        variants: &[],
        when: When::AtStart,
        source: "KB 3066652 (Outlook for Mac, Autodiscover)",
        certain: false,
    },
    Dialog {
        id: "outlook/internet-security-warning",
        client: Client::Outlook,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Internet Security Warning",
        text: &[
            "The server you are connected to is using a security certificate that cannot be verified.",
            "Do you want to continue using this server?",
        ],
        variants: &[
            Variant {
                fault: Fault::WrongName,
                line: "The target principal name is incorrect.",
                certain: true,
            },
            Variant {
                fault: Fault::Dates,
                line: "A required certificate is not within its validity period when verifying against the current system clock or the timestamp in the signed file.",
                certain: false,
            },
            Variant {
                fault: Fault::Untrusted,
                line: "The certificate chain was issued by an authority that is not trusted.",
                certain: false,
            },
        ],
        when: When::OncePerSession,
        source: "KB 958977; https://github.com/mailcow/mailcow-dockerized/issues/6230 (current Outlook); the second line is Windows' message for the error (SEC_E_WRONG_PRINCIPAL; the others inferred)",
        certain: true,
    },
    Dialog {
        id: "thunderbird/certificate-notification",
        client: Client::Thunderbird,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Thunderbird",
        text: &[],
        variants: &[
            Variant {
                fault: Fault::WrongName,
                line: "The certificate for {server} is not valid for that server. Someone could be trying to impersonate the server and you should not continue.",
                certain: true,
            },
            Variant {
                fault: Fault::Dates,
                line: "The certificate for {server} expired on {date}.",
                certain: true,
            },
            Variant {
                fault: Fault::Untrusted,
                line: "The certificate for {server} does not come from a trusted source.",
                certain: true,
            },
        ],
        when: When::EveryConnection,
        source: "comm-central mail/locales/en-US/messenger/certError.ftl, mail/components/activity/modules/alertHook.sys.mjs (a system notification since Thunderbird 128, bug 1893899)",
        certain: true,
    },
    Dialog {
        id: "thunderbird/add-security-exception",
        client: Client::Thunderbird,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Add Security Exception",
        text: &[
            "You are about to override how Thunderbird identifies this site.",
            "Legitimate banks, stores, and other public sites will not ask you to do this.",
            "This site attempts to identify itself with invalid information.",
            "Permanently store this exception",
            "Confirm Security Exception",
        ],
        variants: &[
            Variant {
                fault: Fault::WrongName,
                line: "The certificate belongs to a different site, which could mean that someone is trying to impersonate this site.",
                certain: true,
            },
            Variant {
                fault: Fault::Dates,
                line: "The certificate is not currently valid. It may have been stolen or lost, and could be used by someone to impersonate this site.",
                certain: true,
            },
            Variant {
                fault: Fault::Untrusted,
                line: "The certificate is not trusted because it hasn\u{2019}t been verified as issued by a trusted authority using a secure signature.",
                certain: true,
            },
        ],
        when: When::AccountSetup,
        source: "mozilla-central security/manager/locales/en-US/security/certificates/certManager.ftl; shown by the account set-up's login check (ConfigVerifier), and in Thunderbird 115 when fetching mail",
        certain: true,
    },
    Dialog {
        id: "apple-mail/cannot-verify-server-identity",
        client: Client::AppleMail,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Cannot Verify Server Identity",
        text: &[
            "The identity of \u{201c}{server}\u{201d} cannot be verified by Mail. Review the certificate details to continue.",
        ],
        variants: &[],
        when: When::EveryConnection,
        source: "iOS Mail's alert (title widely reported, e.g. mailcow issues #1998, #3903; Apple publishes no text: the body is as users quote it)",
        certain: false,
    },
    Dialog {
        id: "android/certificate-error-notification",
        client: Client::Android,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Certificate error for {account}",
        text: &["Check your server settings"],
        variants: &[],
        when: When::EveryConnection,
        source: "thunderbird-android (K-9 Mail): feature/notification strings notification_certificate_error_title/_text (the Gmail app's words are not published)",
        certain: true,
    },
    Dialog {
        id: "android/certificate-warning-setup",
        client: Client::Android,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Warning",
        text: &[
            "Certificate error",
            "The app detected a potential security threat and did not continue to connect to {server}.",
            "If you continue, attackers could try to steal information like your password or emails.",
            "Accept risk and continue",
        ],
        variants: &[],
        when: When::AccountSetup,
        source: "thunderbird-android (K-9 Mail): feature/account/server/certificate strings (account_server_certificate_*)",
        certain: true,
    },
    Dialog {
        id: "gnome/evolution-certificate-trust",
        client: Client::Gnome,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Certificate trust...",
        text: &[
            "A mail account '{account}' cannot connect, because an SSL/TLS certificate for '{server}' is not trusted. Do you wish to accept it?",
            "Accept Permanently",
        ],
        variants: &[
            Variant {
                fault: Fault::WrongName,
                line: "The certificate does not match the expected identity of the site that it was retrieved from.",
                certain: true,
            },
            Variant {
                fault: Fault::Dates,
                line: "The certificate has expired.",
                certain: true,
            },
            Variant {
                fault: Fault::Untrusted,
                line: "The signing certificate authority is not known.",
                certain: true,
            },
        ],
        when: When::UntilExceptionStored,
        source: "evolution-data-server src/libedataserverui/e-trust-prompt.c, src/camel/camel-network-service.c",
        certain: true,
    },
    Dialog {
        id: "gnome/geary-untrusted-connection",
        client: Client::Gnome,
        connection: Connection::MailServer,
        faults: &[Fault::WrongName, Fault::Dates, Fault::Untrusted],
        title: "Untrusted Connection: {account}",
        text: &["The identity of the IMAP mail server at {server}:{port} could not be verified."],
        variants: &[
            Variant {
                fault: Fault::WrongName,
                line: "The server\u{2019}s identity does not match the identity in the certificate",
                certain: true,
            },
            Variant {
                fault: Fault::Dates,
                line: "The server\u{2019}s certificate has expired",
                certain: true,
            },
            Variant {
                fault: Fault::Untrusted,
                line: "The server\u{2019}s certificate is not signed by a known authority",
                certain: true,
            },
        ],
        when: When::EveryConnection,
        source: "geary src/client/dialogs/certificate-warning-dialog.vala, ui/certificate_warning_dialog.glade",
        certain: true,
    },
];

/// A dialog's line with its placeholders filled: `{server}` (and `{address}`) by the name
/// asked, `{port}` by the port when known; the account's own name and dates stay described.
pub fn fill(line: &str, server: &str, port: Option<u16>) -> String {
    line.replace("{server}", server)
        .replace("{address}", server)
        .replace(
            "{port}",
            &port.map_or("PORT".to_string(), |p| p.to_string()),
        )
        .replace("{account}", "(your account)")
        .replace("{date}", "(its expiry date)")
}

/// A dialog a user sees, and what made the client show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shown {
    /// The dialog.
    pub dialog: &'static Dialog,
    /// What is wrong, for the dialog's key line.
    pub fault: Fault,
    /// The port, or the step of the client's search, that caused it (e.g. "port 993").
    pub cause: String,
    /// The port, when a port caused it.
    pub port: Option<u16>,
}

/// The dialog `client` shows for `fault` on `connection`, when one is known.
pub fn shown(client: Client, fault: Fault, connection: Connection) -> Option<&'static Dialog> {
    DIALOGS
        .iter()
        .find(|d| d.client == client && d.connection == connection && d.faults.contains(&fault))
}
