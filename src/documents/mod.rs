//! The documents people send and print, composed from plain data and written as Word files
//! through docx-rs: the assurance letter, the board's committee summary and the Channel
//! statement. Nothing here touches the database or the web.

pub mod committee;
pub mod letter;
pub mod statement;
pub mod word;
