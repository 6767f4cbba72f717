//! The invitation form, shared by a lead's people page and the administrators' users page.

use uuid::Uuid;

use crate::auth::Role;
use crate::web::forms::{Errors, is_email};

/// The form as typed (checkboxes repeat a name, so it is read from pairs).
#[derive(Debug, Clone, Default)]
pub struct InviteForm {
    pub email: String,
    pub name: String,
    pub role: String,
    pub organisation: String,
    pub region: String,
    pub sections: Vec<i32>,
}

impl InviteForm {
    /// The form from its fields (already cleaned, as [`crate::web::forms::Form`] gives them).
    pub fn from_pairs(pairs: &[(String, String)]) -> InviteForm {
        let mut form = InviteForm::default();
        for (key, value) in pairs.iter().cloned() {
            match key.as_str() {
                "email" => form.email = value.trim().to_owned(),
                "name" => form.name = value.trim().to_owned(),
                "role" => form.role = value,
                "organisation" => form.organisation = value,
                "region" => form.region = value,
                "sections" => form
                    .sections
                    .extend(value.parse::<i32>().ok().filter(|n| (1..=10).contains(n))),
                _ => {}
            }
        }
        form.sections.sort_unstable();
        form.sections.dedup();
        form
    }

    /// Nothing typed into it.
    pub fn is_blank(&self) -> bool {
        self.email.is_empty() && self.name.is_empty() && self.sections.is_empty()
    }

    pub fn has_section(&self, n: &i32) -> bool {
        self.sections.contains(n)
    }

    /// Checks the common fields; returns the role when it is one of `allowed`.
    pub fn check(&self, allowed: &[Role], errors: &mut Errors) -> Option<Role> {
        if self.email.is_empty() {
            errors.add("email", "Enter their email address");
        } else if !is_email(&self.email) {
            errors.add(
                "email",
                "Enter an email address in the correct format, like name@example.org",
            );
        }
        if self.name.is_empty() {
            errors.add("name", "Enter their name");
        } else if self.name.chars().count() > 200 {
            errors.add("name", "Their name must be 200 characters or fewer");
        }
        let role = self
            .role
            .parse::<Role>()
            .ok()
            .filter(|r| allowed.contains(r));
        match role {
            None => errors.add("role", "Choose a role"),
            Some(Role::Contributor) if self.sections.is_empty() => {
                errors.add("sections", "Choose the benchmarks a contributor works on")
            }
            _ => {}
        }
        role
    }

    pub fn organisation_id(&self) -> Option<Uuid> {
        self.organisation.parse().ok()
    }

    pub fn region_id(&self) -> Option<Uuid> {
        self.region.parse().ok()
    }
}
