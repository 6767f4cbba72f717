//! Prevent Assure: councils' Prevent duty self-assessment and the Home Office review of it.

/// The application state, the router and serving.
pub mod app;
/// Passwords, sessions, CSRF defence and the access policy.
pub mod auth;
/// Who is signed in and the places, kept in memory and kept true by PostgreSQL's notifications.
pub mod cache;
/// The command line: serve, migrate, load-demo.
pub mod cli;
/// Settings from the environment.
pub mod config;
/// SQL, one file per aggregate.
pub mod db;
/// Demonstration data for trying the service.
pub mod demo;
/// Documents people send and print: the assurance letter and the committee summary as Word files.
pub mod documents;
/// Checked domain types: scores, statuses, RAG ratings.
pub mod domain;
/// The web layer's error type.
pub mod error;
/// Assessment frameworks as data: loading and validation.
pub mod framework;
/// Outgoing mail through the outbox.
pub mod mail;
/// Notifications, reminders and digests: who is told what, in the service and by mail.
pub mod notify;
/// The Home Office scoring criteria applied: suggested scores, bands, the summary sentence.
pub mod scoring;
/// Setting up a deployment from the command line: regions, councils, people, roles.
pub mod setup;
/// Pages and routes, one module per area.
pub mod web;
/// Excel workbooks: the action plan export, and the self-assessment's export and import.
pub mod workbook;
