//! sea-orm entities, one file per table.

pub mod answers;
pub mod audit_log;
pub mod facilities;
pub mod facility_sources;
pub mod imported_files;
pub mod mailings;
pub mod responses;
pub mod review_tasks;
pub mod scanned_pages;
pub mod sessions;
pub mod survey_versions;
pub mod users;
