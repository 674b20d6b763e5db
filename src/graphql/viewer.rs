//! Who is asking: the person and scope of the request's bearer token, or anonymous.

use async_graphql::Context;
use entity::TokenScope;

/// The caller of a request, resolved from its bearer token by the HTTP layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Viewer {
    /// The token's person; `None` for an anonymous caller.
    pub person_id: Option<i64>,
    /// The token's scope; `None` for an anonymous caller.
    pub scope: Option<TokenScope>,
}

static ANONYMOUS: Viewer = Viewer {
    person_id: None,
    scope: None,
};

impl Viewer {
    /// The viewer of the request (anonymous when none was attached).
    pub fn of<'a>(ctx: &Context<'a>) -> &'a Viewer {
        ctx.data_opt::<Viewer>().unwrap_or(&ANONYMOUS)
    }

    /// Whether the caller holds an ADMIN token.
    pub fn is_admin(&self) -> bool {
        self.scope == Some(TokenScope::Admin)
    }
}
