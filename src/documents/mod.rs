//! The documents people send and print, composed from plain data and written as Word files
//! through docx-rs: the assurance letter and the board's committee summary. Nothing here
//! touches the database or the web.

pub mod committee;
pub mod letter;
pub mod word;
