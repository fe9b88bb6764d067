//! Provisioning: what tells a mail client which servers to use. Pure: [`settings`] chooses the
//! account settings among verified servers, [`documents`] reads the autoconfig and autodiscover
//! documents sources hand out, [`ispdb`] looks domains up in Mozilla's ISP database (the
//! bundled copy or another), [`mod@write`] writes corrected ones.

pub mod documents;
pub mod ispdb;
pub mod settings;
pub mod write;
