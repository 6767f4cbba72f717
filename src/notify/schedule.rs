//! Reminders and digests on a timetable: deadline reminders every day, and every week the
//! advisers' lists of councils yet to submit and each action owner's digest. Each job runs once
//! per period whichever server gets to it first: the job's row is held (`FOR UPDATE SKIP
//! LOCKED`) while it runs and records the period it ran for, and every message it queues has a
//! key of the period, so a second run of a period queues nothing.

use std::collections::BTreeMap;

use sqlx::{PgConnection, PgPool};
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, Weekday};
use uuid::Uuid;

use super::message::{Message, Optional, To, why};
use crate::db;
use crate::db::notices::{NewNotification, PlacedRecipient};
use crate::db::outbox::NewMail;
use crate::domain::{long_date, uk_offset};
use crate::framework::{Catalogue, Instrument};

/// When reminders and digests go, from the environment (README: REMINDER_DAYS, DIGEST_DAY,
/// DIGEST_HOUR, SCHEDULED_MAIL).
#[derive(Debug, Clone)]
pub struct Timetable {
    /// Days before a deadline on which leads of councils that have not submitted are reminded.
    pub reminder_days: Vec<i32>,
    /// The day of the weekly lists and digests.
    pub digest_day: Weekday,
    /// The hour (UK time) at which the jobs run.
    pub hour: u8,
    /// Whether this server runs the jobs at all.
    pub scheduled: bool,
}

impl Default for Timetable {
    fn default() -> Self {
        Timetable {
            reminder_days: vec![28, 7, 1],
            digest_day: Weekday::Monday,
            hour: 7,
            scheduled: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Day,
    Week,
}

/// A scheduled job.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub name: &'static str,
    pub title: &'static str,
    pub every: Every,
}

pub const JOBS: [Job; 3] = [
    Job {
        name: "deadline-reminders",
        title: "Deadline reminders to leads of councils that have not submitted",
        every: Every::Day,
    },
    Job {
        name: "adviser-lists",
        title: "Weekly list for advisers (and the Channel team) of councils yet to submit",
        every: Every::Week,
    },
    Job {
        name: "action-digests",
        title: "Weekly digest to each action owner of overdue actions and those due in 14 days",
        every: Every::Week,
    },
];

/// The UK's local time at a moment, as a UTC moment.
fn uk_moment(local: PrimitiveDateTime) -> OffsetDateTime {
    local.assume_offset(uk_offset(local.assume_utc()))
}

impl Timetable {
    /// The latest moment the job was due at, at or before `now`.
    pub fn period(&self, every: Every, now: OffsetDateTime) -> OffsetDateTime {
        let local = now.to_offset(uk_offset(now));
        let at = Time::from_hms(self.hour.min(23), 0, 0).unwrap_or(Time::MIDNIGHT);
        let mut date = local.date();
        if every == Every::Week {
            while date.weekday() != self.digest_day {
                date = date.previous_day().unwrap_or(date);
            }
        }
        let mut candidate = uk_moment(PrimitiveDateTime::new(date, at));
        if candidate > now {
            let back = if every == Every::Week { 7 } else { 1 };
            candidate = uk_moment(PrimitiveDateTime::new(date - Duration::days(back), at));
        }
        candidate
    }

    /// The next moment the job is due, after `now`.
    pub fn next(&self, every: Every, now: OffsetDateTime) -> OffsetDateTime {
        let last = self.period(every, now);
        let local = last.to_offset(uk_offset(last));
        let step = if every == Every::Week { 7 } else { 1 };
        uk_moment(PrimitiveDateTime::new(
            local.date() + Duration::days(step),
            local.time(),
        ))
    }

    /// "Every day at 7am", "Every Monday at 7am" (UK time).
    pub fn describe(&self, every: Every) -> String {
        let hour = match self.hour % 12 {
            0 => 12,
            h => h,
        };
        let half = if self.hour < 12 { "am" } else { "pm" };
        match every {
            Every::Day => format!("Every day at {hour}{half} (UK time)"),
            Every::Week => format!("Every {} at {hour}{half} (UK time)", self.digest_day),
        }
    }

    /// "28, 7 and 1", as the pages say it.
    pub fn reminder_days_words(&self) -> String {
        let mut days = self.reminder_days.clone();
        days.sort_unstable_by(|a, b| b.cmp(a));
        let days: Vec<String> = days.iter().map(|d| d.to_string()).collect();
        match days.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => "no".to_owned(),
        }
    }

    fn max_days(&self) -> i32 {
        self.reminder_days.iter().copied().max().unwrap_or(0)
    }

    /// The reminder due `days_left` days before a deadline: the nearest reminder day at or
    /// above it, so that a day missed (servers down) is caught up, once.
    fn threshold(&self, days_left: i64) -> Option<i32> {
        self.reminder_days
            .iter()
            .copied()
            .filter(|d| i64::from(*d) >= days_left)
            .min()
    }
}

/// Runs each job whose period has come and that no server has run for it; what each did.
pub async fn run_due(
    pool: &PgPool,
    frameworks: &Catalogue,
    timetable: &Timetable,
    public_url: &str,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut ran = Vec::new();
    for job in JOBS {
        let period = timetable.period(job.every, now);
        let mut tx = pool.begin().await?;
        let Some(last) = db::notices::hold_job(&mut tx, job.name).await? else {
            continue;
        };
        if last.is_some_and(|l| l >= period) {
            continue;
        }
        let today = now.to_offset(uk_offset(now)).date();
        let queued = match job.name {
            "deadline-reminders" => {
                deadline_reminders(&mut tx, frameworks, timetable, today, public_url).await?
            }
            "adviser-lists" => {
                adviser_lists(&mut tx, frameworks, timetable, today, period, public_url).await?
            }
            _ => action_digests(&mut tx, today, period, public_url).await?,
        };
        let result = match queued {
            0 => "Nothing to send".to_owned(),
            1 => "1 message".to_owned(),
            n => format!("{n} messages"),
        };
        db::notices::finish_job(&mut tx, job.name, period, &result).await?;
        tx.commit().await?;
        tracing::info!(job = job.name, %result, "scheduled job ran");
        ran.push((job.name, result));
    }
    Ok(ran)
}

/// Stores the notifications and queues the mail; how many people got a message.
async fn deliver(
    conn: &mut PgConnection,
    messages: Vec<(&PlacedRecipient, Message, String)>,
    public_url: &str,
) -> anyhow::Result<usize> {
    let mut notifications: Vec<NewNotification> = Vec::new();
    let mut mails: Vec<NewMail> = Vec::new();
    for (r, message, key) in &messages {
        let to = To {
            user_id: r.user_id,
            email: &r.email,
            mail_reminders: r.mail_reminders,
            mail_digests: r.mail_digests,
            unsubscribe_token: &r.unsubscribe_token,
        };
        let (n, m) = message.for_person(&to, key, public_url)?;
        notifications.push(n);
        mails.extend(m);
    }
    let stored = db::notices::insert_notifications(conn, &notifications).await?;
    db::outbox::enqueue_many(conn, &mails).await?;
    Ok(stored as usize)
}

fn codes(frameworks: &Catalogue) -> Vec<String> {
    frameworks.all().iter().map(|f| f.code.clone()).collect()
}

fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

async fn deadline_reminders(
    conn: &mut PgConnection,
    frameworks: &Catalogue,
    timetable: &Timetable,
    today: Date,
    public_url: &str,
) -> anyhow::Result<usize> {
    let open =
        db::notices::open_instruments(conn, today, timetable.max_days(), 0, &codes(frameworks))
            .await?;
    let mut sent = 0;
    for instrument in open {
        let days_left = (instrument.deadline - today).whole_days();
        let Some(threshold) = timetable.threshold(days_left) else {
            continue;
        };
        let Some(fw) = frameworks.get(&instrument.framework_code) else {
            continue;
        };
        let councils =
            db::notices::unsubmitted(conn, instrument.cycle_id, &instrument.framework_code).await?;
        let ids: Vec<Uuid> = councils.iter().map(|c| c.organisation_id).collect();
        let leads = db::notices::people_with_role(conn, "lead", &ids).await?;
        let by_id: BTreeMap<Uuid, &db::notices::Unsubmitted> =
            councils.iter().map(|c| (c.organisation_id, c)).collect();
        let mut messages = Vec::new();
        for lead in &leads {
            let Some(council) = lead.place_id.and_then(|p| by_id.get(&p)) else {
                continue;
            };
            let when = if days_left == 0 {
                "today".to_owned()
            } else {
                format!("in {}", days(days_left))
            };
            let message = Message {
                kind: "deadline_reminder".to_owned(),
                subject: format!(
                    "{}'s {} for {} is due {when}",
                    council.organisation_name, fw.assessment_name, instrument.cycle_label
                ),
                lines: vec![format!(
                    "{}'s {} for {} is due by {} and has not been submitted yet{}.",
                    council.organisation_name,
                    fw.assessment_name,
                    instrument.cycle_label,
                    long_date(instrument.deadline),
                    if council.started {
                        ""
                    } else {
                        " (it is not started)"
                    }
                )],
                quote: None,
                items: Vec::new(),
                link: match council.assessment_id {
                    Some(a) => format!("/assessments/{a}"),
                    None => "/assessments".to_owned(),
                },
                link_text: if council.started {
                    "Carry on with it".to_owned()
                } else {
                    "Start it".to_owned()
                },
                why: why("lead", &council.organisation_name, None),
                optional: Some(Optional::Reminders),
            };
            let key = format!(
                "deadline:{}:{}:{threshold}:{}:{}",
                instrument.cycle_id,
                instrument.framework_code,
                council.organisation_id,
                lead.user_id
            );
            messages.push((lead, message, key));
        }
        sent += deliver(conn, messages, public_url).await?;
    }
    Ok(sent)
}

/// At most this many councils are listed in one mail; the page has the rest.
const LISTED: usize = 60;

async fn adviser_lists(
    conn: &mut PgConnection,
    frameworks: &Catalogue,
    timetable: &Timetable,
    today: Date,
    period: OffsetDateTime,
    public_url: &str,
) -> anyhow::Result<usize> {
    let open =
        db::notices::open_instruments(conn, today, timetable.max_days(), 90, &codes(frameworks))
            .await?;
    let regions = db::notices::regions(conn).await?;
    let week = period.date();
    let mut sent = 0;
    for instrument in open {
        let Some(fw) = frameworks.get(&instrument.framework_code) else {
            continue;
        };
        let councils =
            db::notices::unsubmitted(conn, instrument.cycle_id, &instrument.framework_code).await?;
        if councils.is_empty() {
            continue;
        }
        let due = if instrument.deadline < today {
            format!("was due by {}", long_date(instrument.deadline))
        } else {
            format!("is due by {}", long_date(instrument.deadline))
        };
        let line = |c: &db::notices::Unsubmitted| {
            format!(
                "{} ({})",
                c.organisation_name,
                if c.started { "draft" } else { "not started" }
            )
        };
        let list = |cs: &[&db::notices::Unsubmitted]| {
            let mut items: Vec<String> = cs.iter().take(LISTED).map(|c| line(c)).collect();
            if cs.len() > LISTED {
                items.push(format!("and {} more", cs.len() - LISTED));
            }
            items
        };
        let count = |n: usize, place: &str| {
            if n == 1 {
                format!("1 council{place} has")
            } else {
                format!("{n} councils{place} have")
            }
        };
        let mut messages = Vec::new();
        let team;
        let advisers;
        if fw.kind == Instrument::ChannelStatement {
            // The Channel team checks every council's statement: one national list.
            team = db::notices::people_with_role(conn, "channel_team", &[]).await?;
            let all: Vec<&db::notices::Unsubmitted> = councils.iter().collect();
            for person in &team {
                messages.push((
                    person,
                    Message {
                        kind: "adviser_list".to_owned(),
                        subject: format!(
                            "{} not yet submitted the {} for {}",
                            count(all.len(), ""),
                            fw.assessment_name,
                            instrument.cycle_label
                        ),
                        lines: vec![format!(
                            "The {} for {} {due}. These councils have not submitted it:",
                            fw.assessment_name, instrument.cycle_label
                        )],
                        quote: None,
                        items: list(&all),
                        link: "/channel".to_owned(),
                        link_text: "See every council's statement".to_owned(),
                        why: why("channel_team", "", None),
                        optional: Some(Optional::Digests),
                    },
                    format!(
                        "adviser-list:{week}:{}:{}:{}",
                        instrument.cycle_id, instrument.framework_code, person.user_id
                    ),
                ));
            }
        } else {
            let region_ids: Vec<Uuid> = regions.iter().map(|r| r.0).collect();
            advisers = db::notices::people_with_role(conn, "adviser", &region_ids).await?;
            for adviser in &advisers {
                let Some((_, slug, region)) =
                    regions.iter().find(|r| Some(r.0) == adviser.place_id)
                else {
                    continue;
                };
                let theirs: Vec<&db::notices::Unsubmitted> = councils
                    .iter()
                    .filter(|c| Some(c.region_id) == adviser.place_id)
                    .collect();
                if theirs.is_empty() {
                    continue;
                }
                messages.push((
                    adviser,
                    Message {
                        kind: "adviser_list".to_owned(),
                        subject: format!(
                            "{} not yet submitted the {} for {}",
                            count(theirs.len(), &format!(" in {region}")),
                            fw.assessment_name,
                            instrument.cycle_label
                        ),
                        lines: vec![format!(
                            "The {} for {} {due}. These councils in {region} have not submitted it:",
                            fw.assessment_name, instrument.cycle_label
                        )],
                        quote: None,
                        items: list(&theirs),
                        link: format!("/regions/{slug}"),
                        link_text: format!("See {region}"),
                        why: why("adviser", region, None),
                        optional: Some(Optional::Digests),
                    },
                    format!(
                        "adviser-list:{week}:{}:{}:{}:{}",
                        instrument.cycle_id, instrument.framework_code, slug, adviser.user_id
                    ),
                ));
            }
        }
        sent += deliver(conn, messages, public_url).await?;
    }
    Ok(sent)
}

async fn action_digests(
    conn: &mut PgConnection,
    today: Date,
    period: OffsetDateTime,
    public_url: &str,
) -> anyhow::Result<usize> {
    let due = db::notices::due_actions(conn, today + Duration::days(14)).await?;
    let week = period.date();
    // One digest per person: nothing is sent to someone with nothing due.
    let mut people: Vec<(PlacedRecipient, Vec<&db::notices::DueAction>)> = Vec::new();
    for a in &due {
        match people.last_mut() {
            Some((p, list)) if p.user_id == a.user_id => list.push(a),
            _ => people.push((
                PlacedRecipient {
                    place_id: None,
                    user_id: a.user_id,
                    email: a.email.clone(),
                    display_name: a.display_name.clone(),
                    role: "owner".to_owned(),
                    mail_reminders: true,
                    mail_digests: a.mail_digests,
                    unsubscribe_token: a.unsubscribe_token.clone(),
                },
                vec![a],
            )),
        }
    }
    let mut messages = Vec::new();
    for (person, actions) in &people {
        let overdue = actions.iter().filter(|a| a.due_on < today).count();
        let soon = actions.len() - overdue;
        let mut items: Vec<String> = actions
            .iter()
            .take(50)
            .map(|a| {
                let description: String = if a.description.chars().count() > 160 {
                    format!("{}…", a.description.chars().take(160).collect::<String>())
                } else {
                    a.description.clone()
                };
                let when = if a.due_on < today {
                    format!("overdue, target {}", a.target_text)
                } else {
                    format!("due {}, target {}", long_date(a.due_on), a.target_text)
                };
                format!("{description} ({}: {when})", a.organisation_name)
            })
            .collect();
        if actions.len() > 50 {
            items.push(format!("and {} more", actions.len() - 50));
        }
        let mut parts = Vec::new();
        if overdue > 0 {
            parts.push(format!("{overdue} overdue"));
        }
        if soon > 0 {
            parts.push(format!("{soon} due in the next 14 days"));
        }
        let councils: Vec<&str> = {
            let mut c: Vec<&str> = actions
                .iter()
                .map(|a| a.organisation_name.as_str())
                .collect();
            c.dedup();
            c
        };
        messages.push((
            person,
            Message {
                kind: "action_digest".to_owned(),
                subject: format!("Your actions this week: {}", parts.join(", ")),
                lines: vec![
                    "These actions you own are overdue or due in the next 14 days:".to_owned(),
                ],
                quote: None,
                items,
                link: "/me/actions".to_owned(),
                link_text: "Update your actions".to_owned(),
                why: why("owner", &councils.join(", "), None),
                optional: Some(Optional::Digests),
            },
            format!("digest:{week}:{}", person.user_id),
        ));
    }
    deliver(conn, messages, public_url).await
}
