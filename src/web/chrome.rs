//! What every page's frame shows: the navigation and who is signed in.

use crate::auth::Principal;

/// A link in the service navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: String,
    pub label: String,
    pub current: bool,
}

/// The page frame's data, given to every page.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user_name: Option<String>,
    /// Notifications not yet read, for the header's link.
    pub unread: i64,
    pub links: Vec<NavLink>,
}

impl Default for Chrome {
    fn default() -> Self {
        Chrome::new(None, "")
    }
}

impl Chrome {
    /// The frame for a page at `path`, for whoever is signed in (if anyone).
    pub fn new(who: Option<&Principal>, path: &str) -> Chrome {
        let mut links = vec![("/frameworks".to_owned(), "Frameworks".to_owned())];
        if let Some(who) = who {
            links.push(("/assessments".to_owned(), "Assessments".to_owned()));
            // Each council once: its summary for everyone there, its people for its lead.
            let mut councils: Vec<(&str, &str)> = Vec::new();
            for m in &who.memberships {
                if let (Some(slug), Some(name)) = (&m.organisation_slug, &m.organisation_name)
                    && !councils.iter().any(|(s, _)| s == slug)
                {
                    councils.push((slug, name));
                }
            }
            for (slug, name) in &councils {
                links.push((format!("/orgs/{slug}"), (*name).to_owned()));
            }
            for m in who.led_councils() {
                if let (Some(slug), Some(name)) = (&m.organisation_slug, &m.organisation_name) {
                    links.push((format!("/orgs/{slug}/people"), format!("People at {name}")));
                }
            }
            if who.memberships.iter().any(|m| m.organisation_id.is_some()) {
                links.push(("/me/actions".to_owned(), "Your actions".to_owned()));
            }
            for m in &who.memberships {
                if m.role == crate::auth::Role::Adviser
                    && let (Some(slug), Some(name)) = (&m.region_slug, &m.region_name)
                {
                    links.push((format!("/regions/{slug}"), name.clone()));
                }
            }
            if who.is_channel_team() || who.is_admin() {
                links.push(("/channel".to_owned(), "Channel statements".to_owned()));
            }
            if who.is_admin() {
                links.push(("/national".to_owned(), "National picture".to_owned()));
                links.push(("/admin".to_owned(), "Administration".to_owned()));
            }
            links.push(("/account".to_owned(), "Your account".to_owned()));
        }
        // The one link the page is under: the longest that matches.
        let matches =
            |href: &str| path == href || (href != "/" && path.starts_with(&format!("{href}/")));
        let current = links
            .iter()
            .filter(|(href, _)| matches(href))
            .map(|(href, _)| href.len())
            .max();
        Chrome {
            user_name: who.map(|w| w.display_name.clone()),
            unread: who.map_or(0, |w| w.unread),
            links: links
                .into_iter()
                .map(|(href, label)| NavLink {
                    current: matches(&href) && Some(href.len()) == current,
                    href,
                    label,
                })
                .collect(),
        }
    }
}
