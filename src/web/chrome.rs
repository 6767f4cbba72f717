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
            for m in who.led_councils() {
                if let (Some(slug), Some(name)) = (&m.organisation_slug, &m.organisation_name) {
                    links.push((format!("/orgs/{slug}/people"), format!("People at {name}")));
                }
            }
            for m in &who.memberships {
                if m.role == crate::auth::Role::Adviser {
                    if let (Some(slug), Some(name)) = (&m.region_slug, &m.region_name) {
                        links.push((format!("/regions/{slug}"), name.clone()));
                    }
                }
            }
            if who.is_admin() {
                links.push(("/admin".to_owned(), "Administration".to_owned()));
            }
            links.push(("/account".to_owned(), "Your account".to_owned()));
        }
        Chrome {
            user_name: who.map(|w| w.display_name.clone()),
            links: links
                .into_iter()
                .map(|(href, label)| NavLink {
                    current: path == href || (href != "/" && path.starts_with(&format!("{href}/"))),
                    href,
                    label,
                })
                .collect(),
        }
    }
}
