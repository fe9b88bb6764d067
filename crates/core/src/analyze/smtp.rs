//! What an SMTP server says about itself: the name in its greeting.

use std::net::IpAddr;

/// The name in an SMTP greeting: `220 mx.example.com ESMTP Postfix` gives `mx.example.com`.
pub fn banner_name(greeting: &str) -> Option<String> {
    let mut words = greeting.split_whitespace();
    let code = words.next()?;
    if !code.starts_with("220") {
        return None;
    }
    let name = words.next()?.trim_end_matches('.').to_ascii_lowercase();
    (name.contains('.') || name.parse::<IpAddr>().is_ok()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_names() {
        assert_eq!(
            banner_name("220 mx.lab.test ESMTP Postfix (Debian/GNU)").as_deref(),
            Some("mx.lab.test")
        );
        assert_eq!(
            banner_name("220 MX.Example.COM. ready").as_deref(),
            Some("mx.example.com")
        );
        assert_eq!(banner_name("220 ESMTP ready"), None);
        assert_eq!(banner_name("554 go away"), None);
        assert_eq!(banner_name(""), None);
    }
}
