//! Who a request is made as: an application (anonymous) or a logged-in user.

use crate::secret::Secret;

/// The one `Authorization` header a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// `Authorization: Client-ID <id>`: anonymous uploads and public reads.
    Anonymous {
        /// The registered application's Client ID (not a secret: it ships inside apps).
        client_id: String,
    },
    /// `Authorization: Bearer <token>`: requests on behalf of a logged-in user.
    Bearer {
        /// The user's access token.
        access_token: Secret,
    },
}

impl Auth {
    /// Anonymous auth with a Client ID.
    pub fn client_id(client_id: impl Into<String>) -> Self {
        Self::Anonymous {
            client_id: client_id.into(),
        }
    }

    /// User auth with an access token.
    pub fn bearer(access_token: impl Into<Secret>) -> Self {
        Self::Bearer {
            access_token: access_token.into(),
        }
    }

    /// Whether this is a logged-in user's token (which decides how a 403 is read).
    pub fn is_user(&self) -> bool {
        matches!(self, Self::Bearer { .. })
    }

    pub(crate) fn header_value(&self) -> String {
        match self {
            Self::Anonymous { client_id } => format!("Client-ID {client_id}"),
            Self::Bearer { access_token } => format!("Bearer {}", access_token.expose()),
        }
    }
}
