//! Finding things out from DNS before and after probing: where a name points, what an address is
//! called. (Later: SRV records and autoconfiguration, which also start from a domain.)

pub mod autoconfig;
pub mod dns;
