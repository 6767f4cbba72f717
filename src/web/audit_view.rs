//! The audit trail as a page: administrators see all of it, a lead their council's part.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, Time};

use crate::db::audit::{Event, Filter};

pub const PAGE_SIZE: i64 = 50;

/// The filter form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub page: Option<i64>,
}

fn day(text: &str) -> Option<Date> {
    Date::parse(text.trim(), format_description!("[year]-[month]-[day]")).ok()
}

impl AuditQuery {
    /// The database filter; dates that do not parse are reported, not guessed.
    pub fn filter(
        &self,
        organisation: Option<uuid::Uuid>,
    ) -> (Filter, Vec<(&'static str, String)>) {
        let mut problems = Vec::new();
        let mut date = |field: &'static str, text: &str, next_day: bool| {
            if text.trim().is_empty() {
                return None;
            }
            match day(text) {
                Some(d) => {
                    let d = if next_day {
                        d.next_day().unwrap_or(d)
                    } else {
                        d
                    };
                    Some(OffsetDateTime::new_utc(d, Time::MIDNIGHT))
                }
                None => {
                    problems.push((
                        field,
                        "Enter the date as year-month-day, like 2026-04-01".to_owned(),
                    ));
                    None
                }
            }
        };
        let from = date("from", &self.from, false);
        let to = date("to", &self.to, true);
        (
            Filter {
                organisation,
                actor: self.actor.trim().to_owned(),
                action: self.action.trim().to_owned(),
                entity_type: self.entity.trim().to_owned(),
                from,
                to,
            },
            problems,
        )
    }

    pub fn page(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }

    /// The query string for another page with the same filters.
    pub fn link_to_page(&self, page: i64) -> String {
        let pairs = [
            ("actor", self.actor.as_str()),
            ("action", self.action.as_str()),
            ("entity", self.entity.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ];
        let mut query: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        query.push(format!("page={page}"));
        format!("?{}", query.join("&"))
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One row of the trail, formatted.
pub struct Row {
    pub when: String,
    pub who: String,
    pub from: String,
    pub action: String,
    pub entity: String,
    pub council: String,
    pub before: String,
    pub after: String,
}

impl From<Event> for Row {
    fn from(e: Event) -> Row {
        let pretty = |v: Option<serde_json::Value>| {
            v.map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
                .unwrap_or_default()
        };
        Row {
            when: e.occurred_at.format(&Rfc3339).unwrap_or_default(),
            who: e.actor_label,
            from: e.ip.map(|ip| ip.ip().to_string()).unwrap_or_default(),
            action: e.action,
            entity: match e.entity_id {
                Some(id) => format!("{} {id}", e.entity_type),
                None => e.entity_type,
            },
            council: e.organisation_name.unwrap_or_default(),
            before: pretty(e.before),
            after: pretty(e.after),
        }
    }
}
