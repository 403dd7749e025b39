//! The actors and their typed messages. Handlers return futures ([`ResponseFuture`]), so an actor
//! never waits for one request before taking the next.

use crate::clients::{CreatedClient, NewClient, create_client};
use crate::services::Services;
use actix::prelude::*;
use oauth2_core::OAuthError;
use oauth2_core::client::Client;
use oauth2_core::form::Form;
use oauth2_core::ports::User;
use oauth2_core::token::{Introspection, TokenResponse};
use std::sync::Arc;

/// Issues, introspects and revokes tokens.
pub struct TokenActor {
    svc: Arc<Services>,
}

/// Reads and changes registered clients.
pub struct ClientActor {
    svc: Arc<Services>,
}

/// Users and their authentication.
pub struct AuthActor {
    svc: Arc<Services>,
}

impl Actor for TokenActor {
    type Context = Context<Self>;
}
impl Actor for ClientActor {
    type Context = Context<Self>;
}
impl Actor for AuthActor {
    type Context = Context<Self>;
}

/// The addresses of one set of actors.
#[derive(Clone)]
pub struct Actors {
    pub token: Addr<TokenActor>,
    pub client: Addr<ClientActor>,
    pub auth: Addr<AuthActor>,
}

impl Actors {
    /// Starts a set of actors on the current arbiter. Called once per actix-web worker, so each
    /// worker thread talks to actors on its own thread.
    pub fn start(svc: Arc<Services>) -> Actors {
        Actors {
            token: TokenActor { svc: svc.clone() }.start(),
            client: ClientActor { svc: svc.clone() }.start(),
            auth: AuthActor { svc }.start(),
        }
    }
}

/// `POST /oauth/token`: the parsed form and the raw `Authorization` header.
#[derive(Message)]
#[rtype(result = "Result<TokenResponse, OAuthError>")]
pub struct IssueToken {
    pub form: Form,
    pub authorization: Option<Vec<u8>>,
}

#[derive(Message)]
#[rtype(result = "Result<Introspection, OAuthError>")]
pub struct Introspect {
    pub form: Form,
    pub authorization: Option<Vec<u8>>,
}

#[derive(Message)]
#[rtype(result = "Result<(), OAuthError>")]
pub struct Revoke {
    pub form: Form,
    pub authorization: Option<Vec<u8>>,
}

impl Handler<IssueToken> for TokenActor {
    type Result = ResponseFuture<Result<TokenResponse, OAuthError>>;
    fn handle(&mut self, msg: IssueToken, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { svc.token(msg.form, msg.authorization).await })
    }
}

impl Handler<Introspect> for TokenActor {
    type Result = ResponseFuture<Result<Introspection, OAuthError>>;
    fn handle(&mut self, msg: Introspect, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { svc.introspect(msg.form, msg.authorization).await })
    }
}

impl Handler<Revoke> for TokenActor {
    type Result = ResponseFuture<Result<(), OAuthError>>;
    fn handle(&mut self, msg: Revoke, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { svc.revoke(msg.form, msg.authorization).await })
    }
}

#[derive(Message)]
#[rtype(result = "Result<CreatedClient, OAuthError>")]
pub struct CreateClient(pub NewClient);

#[derive(Message)]
#[rtype(result = "Result<Option<Arc<Client>>, OAuthError>")]
pub struct GetClient(pub String);

impl Handler<CreateClient> for ClientActor {
    type Result = ResponseFuture<Result<CreatedClient, OAuthError>>;
    fn handle(&mut self, msg: CreateClient, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            create_client(svc.store.as_ref(), &svc.rng, crate::now(), msg.0).await
        })
    }
}

impl Handler<GetClient> for ClientActor {
    type Result = ResponseFuture<Result<Option<Arc<Client>>, OAuthError>>;
    fn handle(&mut self, msg: GetClient, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { svc.clients.get(svc.store.as_ref(), &msg.0).await })
    }
}

/// Looks a user up by id.
#[derive(Message)]
#[rtype(result = "Result<Option<User>, OAuthError>")]
pub struct GetUser(pub String);

impl Handler<GetUser> for AuthActor {
    type Result = ResponseFuture<Result<Option<User>, OAuthError>>;
    fn handle(&mut self, msg: GetUser, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { Ok(svc.store.get_user(&msg.0).await?) })
    }
}
