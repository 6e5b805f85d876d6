//! One module per top-level command.

pub mod accuracy;
pub mod demo;
pub mod export;
pub mod forms;
pub mod replies;
pub mod report;
pub mod review;
pub mod roster;
pub mod scan;
pub mod status;
pub mod survey;
pub mod user;
