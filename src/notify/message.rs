//! A message as a person receives it: a notification in the service and a mail in plain text
//! and HTML, from one set of words. A message says what happened, gives one link, and says why
//! the person gets it and how to change that. It never carries evidence text, nor scores.

use askama::Template;
use uuid::Uuid;

use crate::db::notices::NewNotification;
use crate::db::outbox::NewMail;

/// Mail a person may turn off on `/account`; everything else comes with their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optional {
    Reminders,
    Digests,
}

impl Optional {
    pub fn code(self) -> &'static str {
        match self {
            Optional::Reminders => "reminders",
            Optional::Digests => "digests",
        }
    }

    pub fn from_code(code: &str) -> Option<Optional> {
        match code {
            "reminders" => Some(Optional::Reminders),
            "digests" => Some(Optional::Digests),
            _ => None,
        }
    }

    /// As the account page and the mail name it.
    pub fn label(self) -> &'static str {
        match self {
            Optional::Reminders => "reminders of deadlines",
            Optional::Digests => "weekly digests",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub kind: String,
    /// The mail's subject and the notification's title.
    pub subject: String,
    /// What happened, in a paragraph or two.
    pub lines: Vec<String>,
    /// Words someone wrote for the reader (a reason for returning), shown as a quotation.
    pub quote: Option<String>,
    /// A list (a digest's actions, councils yet to submit).
    pub items: Vec<String>,
    /// The one page to go to, as a path.
    pub link: String,
    pub link_text: String,
    /// Why the person gets it ("You get this because you are the Prevent lead for Leeds").
    pub why: String,
    pub optional: Option<Optional>,
}

/// Someone to send a message to.
#[derive(Debug, Clone)]
pub struct To<'a> {
    pub user_id: Uuid,
    pub email: &'a str,
    pub mail_reminders: bool,
    pub mail_digests: bool,
    pub unsubscribe_token: &'a str,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct TextMail<'a> {
    m: &'a Message,
    url: &'a str,
    unsubscribe: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct HtmlMail<'a> {
    m: &'a Message,
    url: &'a str,
    unsubscribe: Option<&'a str>,
}

impl Message {
    /// The notification and (unless the person turned such mail off) the mail, under `key`.
    pub fn for_person(
        &self,
        to: &To<'_>,
        key: &str,
        public_url: &str,
    ) -> Result<(NewNotification, Option<NewMail>), askama::Error> {
        let notification = NewNotification {
            user_id: to.user_id,
            kind: self.kind.clone(),
            title: self.subject.clone(),
            body: {
                let mut body = self.lines.join(" ");
                if let Some(quote) = &self.quote {
                    body.push_str(&format!(" “{quote}”"));
                }
                if body.chars().count() > 600 {
                    body = format!("{}…", body.chars().take(600).collect::<String>());
                }
                body
            },
            link: self.link.clone(),
            key: key.to_owned(),
        };
        let wanted = match self.optional {
            Some(Optional::Reminders) => to.mail_reminders,
            Some(Optional::Digests) => to.mail_digests,
            None => true,
        };
        if !wanted {
            return Ok((notification, None));
        }
        let unsubscribe = self.optional.map(|o| {
            format!(
                "{public_url}/unsubscribe/{}/{}",
                to.unsubscribe_token,
                o.code()
            )
        });
        let text = TextMail {
            m: self,
            url: public_url,
            unsubscribe: unsubscribe.as_deref(),
        }
        .render()?;
        let html = HtmlMail {
            m: self,
            url: public_url,
            unsubscribe: unsubscribe.as_deref(),
        }
        .render()?;
        let mail = NewMail {
            user_id: to.user_id,
            to: to.email.to_owned(),
            kind: self.kind.clone(),
            subject: self.subject.clone(),
            text,
            html,
            list_unsubscribe: unsubscribe,
            key: key.to_owned(),
        };
        Ok((notification, Some(mail)))
    }
}

/// Why a person with `role` hears of something at `place` (a council, a region).
pub fn why(role: &str, place: &str, benchmark: Option<i32>) -> String {
    match role {
        "lead" => format!("You get this because you are a Prevent lead for {place}."),
        "contributor" => match benchmark {
            Some(n) => format!(
                "You get this because you contribute evidence to benchmark {n} for {place}."
            ),
            None => format!("You get this because you contribute evidence for {place}."),
        },
        "board" => format!("You get this because you are a board member for {place}."),
        "owner" => format!("You get this because you own actions in {place}'s plan."),
        "signatory" => {
            format!("You get this because you sign {place}'s Channel statement.")
        }
        "adviser" => format!("You get this because you are a regional adviser for {place}."),
        "channel_team" => {
            "You get this because you are in the Home Office's Channel team.".to_owned()
        }
        "admin" => "You get this because you administer Prevent Assure.".to_owned(),
        _ => format!("You get this because of your role for {place}."),
    }
}
