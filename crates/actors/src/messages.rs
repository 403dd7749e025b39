//! The actors and their typed messages. Handlers return futures ([`ResponseFuture`]), so an actor
//! never waits for one request before taking the next.

use crate::auth::{AuthorizeOutcome, PasswordCheck, SignedIn};
use crate::clients::{CreatedClient, NewClient, create_client};
use crate::events::EventDraft;
use crate::services::Services;
use crate::tokens::claimed_client;
use actix::prelude::*;
use oauth2_core::OAuthError;
use oauth2_core::events::EventKind;
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

/// Runs the admin API's operations, each after checking the caller's bearer token.
pub struct AdminActor {
    svc: Arc<Services>,
}

impl Actor for AdminActor {
    type Context = Context<Self>;
}

/// The addresses of one set of actors.
#[derive(Clone)]
pub struct Actors {
    pub token: Addr<TokenActor>,
    pub client: Addr<ClientActor>,
    pub auth: Addr<AuthActor>,
    pub admin: Addr<AdminActor>,
}

impl Actors {
    /// Starts a set of actors on the current arbiter. Called once per actix-web worker, so each
    /// worker thread talks to actors on its own thread.
    pub fn start(svc: Arc<Services>) -> Actors {
        Actors {
            token: TokenActor { svc: svc.clone() }.start(),
            client: ClientActor { svc: svc.clone() }.start(),
            admin: AdminActor { svc: svc.clone() }.start(),
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
    /// The caller's address, for brute-force limits on the password grant.
    pub address: Option<String>,
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

/// A refused introspection or revocation (client authentication failed, a bad request) is a
/// `token.refused` event naming the endpoint and the client the request claimed to be.
fn refused(
    svc: &Services,
    endpoint: &'static str,
    e: &OAuthError,
    form: &Form,
    authorization: Option<&[u8]>,
) {
    if !svc.events.wants(EventKind::TokenRefused) {
        return;
    }
    let mut draft = EventDraft::new(EventKind::TokenRefused)
        .detail(serde_json::json!({ "endpoint": endpoint, "error": e.code.as_str() }));
    if let Some(c) = claimed_client(form, authorization) {
        draft = draft.actor(c.as_str()).client(c);
    }
    svc.emit(draft);
}

impl Handler<IssueToken> for TokenActor {
    type Result = ResponseFuture<Result<TokenResponse, OAuthError>>;
    fn handle(&mut self, msg: IssueToken, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let issued = svc.token(msg.form, msg.authorization, msg.address).await;
            if let Err(e) = &issued {
                svc.activity.token_error(e.code, crate::now());
            }
            issued
        })
    }
}

impl Handler<Introspect> for TokenActor {
    type Result = ResponseFuture<Result<Introspection, OAuthError>>;
    fn handle(&mut self, msg: Introspect, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let authorization = msg.authorization.as_deref();
            let result = svc.introspect(&msg.form, authorization).await;
            match &result {
                Ok(i) if svc.events.wants(EventKind::TokenIntrospected) => {
                    let mut draft = EventDraft::new(EventKind::TokenIntrospected).detail(
                        serde_json::json!({ "active": i.active, "token_client_id": i.client_id }),
                    );
                    if let Some(caller) = claimed_client(&msg.form, authorization) {
                        draft = draft.actor(caller.as_str()).client(caller);
                    }
                    svc.emit(draft);
                }
                Err(e) => refused(&svc, "introspect", e, &msg.form, authorization),
                Ok(_) => {}
            }
            result
        })
    }
}

impl Handler<Revoke> for TokenActor {
    type Result = ResponseFuture<Result<(), OAuthError>>;
    fn handle(&mut self, msg: Revoke, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let authorization = msg.authorization.as_deref();
            let result = svc.revoke(&msg.form, authorization).await;
            if let Err(e) = &result {
                refused(&svc, "revoke", e, &msg.form, authorization);
            }
            result
        })
    }
}

#[derive(Message)]
#[rtype(result = "Result<CreatedClient, OAuthError>")]
pub struct CreateClient(pub NewClient);

impl Handler<CreateClient> for ClientActor {
    type Result = ResponseFuture<Result<CreatedClient, OAuthError>>;
    fn handle(&mut self, msg: CreateClient, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(
            async move { create_client(svc.store.as_ref(), &svc.rng, crate::now(), msg.0).await },
        )
    }
}

/// The signed-in user behind a session cookie value.
#[derive(Message)]
#[rtype(result = "Result<Option<SignedIn>, OAuthError>")]
pub struct CurrentUser(pub String);

impl Handler<CurrentUser> for AuthActor {
    type Result = ResponseFuture<Result<Option<SignedIn>, OAuthError>>;
    fn handle(&mut self, msg: CurrentUser, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { svc.signed_in(&msg.0, crate::now()).await })
    }
}

/// What a sign-in attempt gave.
#[derive(Debug)]
pub enum LoginResult {
    /// Signed in: the new session id for the cookie.
    SignedIn {
        session_id: String,
    },
    Failed,
    Throttled,
}

#[derive(Message)]
#[rtype(result = "Result<LoginResult, OAuthError>")]
pub struct Login {
    pub username: String,
    pub password: String,
    pub address: Option<String>,
}

impl Handler<Login> for AuthActor {
    type Result = ResponseFuture<Result<LoginResult, OAuthError>>;
    fn handle(&mut self, msg: Login, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let now = crate::now();
            match svc
                .check_password(
                    &msg.username,
                    &msg.password,
                    msg.address.as_deref(),
                    now,
                    "login_form",
                )
                .await?
            {
                PasswordCheck::Ok(user) => Ok(LoginResult::SignedIn {
                    session_id: svc.start_session(&user, now).await?,
                }),
                PasswordCheck::Failed => Ok(LoginResult::Failed),
                PasswordCheck::Throttled => Ok(LoginResult::Throttled),
            }
        })
    }
}

#[derive(Message)]
#[rtype(result = "Result<(), OAuthError>")]
pub struct Logout(pub String);

impl Handler<Logout> for AuthActor {
    type Result = ResponseFuture<Result<(), OAuthError>>;
    fn handle(&mut self, msg: Logout, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { svc.sign_out(&msg.0).await })
    }
}

/// `GET /oauth/authorize`.
#[derive(Message)]
#[rtype(result = "AuthorizeOutcome")]
pub struct Authorize {
    pub params: Form,
    pub session_id: Option<String>,
}

/// `POST /oauth/authorize`: the consent decision.
#[derive(Message)]
#[rtype(result = "AuthorizeOutcome")]
pub struct Decide {
    pub params: Form,
    pub session_id: Option<String>,
    pub allow: bool,
}

async fn signed_in(
    svc: &Services,
    session_id: Option<&str>,
    now: i64,
) -> Result<Option<SignedIn>, OAuthError> {
    match session_id {
        Some(id) => svc.signed_in(id, now).await,
        None => Ok(None),
    }
}

/// A request refused without a redirect (unknown client, wrong redirect URI) is an event too,
/// naming the client as claimed.
fn fatal_event(svc: &Services, params: &Form, outcome: &AuthorizeOutcome) {
    if let AuthorizeOutcome::Fatal(e) = outcome
        && svc.events.wants(EventKind::AuthorizationRefused)
    {
        let mut draft = EventDraft::new(EventKind::AuthorizationRefused)
            .detail(serde_json::json!({ "error": e.code.as_str(), "redirect": false }));
        if let Some(c) = params
            .get("client_id")
            .filter(|c| c.len() <= 255 && !c.chars().any(char::is_control))
        {
            draft = draft.actor(c).client(c);
        }
        svc.emit(draft);
    }
}

impl Handler<Authorize> for AuthActor {
    type Result = ResponseFuture<AuthorizeOutcome>;
    fn handle(&mut self, msg: Authorize, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let now = crate::now();
            let outcome = match signed_in(&svc, msg.session_id.as_deref(), now).await {
                Ok(user) => svc.authorize(&msg.params, user.as_ref(), now).await,
                Err(e) => AuthorizeOutcome::Fatal(e),
            };
            fatal_event(&svc, &msg.params, &outcome);
            outcome
        })
    }
}

impl Handler<Decide> for AuthActor {
    type Result = ResponseFuture<AuthorizeOutcome>;
    fn handle(&mut self, msg: Decide, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let now = crate::now();
            let outcome = match signed_in(&svc, msg.session_id.as_deref(), now).await {
                Ok(user) => {
                    svc.consent(&msg.params, user.as_ref(), msg.allow, now)
                        .await
                }
                Err(e) => AuthorizeOutcome::Fatal(e),
            };
            fatal_event(&svc, &msg.params, &outcome);
            outcome
        })
    }
}

/// `GET/POST /oauth/userinfo`: the bearer token.
#[derive(Message)]
#[rtype(result = "Result<serde_json::Map<String, serde_json::Value>, OAuthError>")]
pub struct UserInfo(pub String);

impl Handler<UserInfo> for AuthActor {
    type Result = ResponseFuture<Result<serde_json::Map<String, serde_json::Value>, OAuthError>>;
    fn handle(&mut self, msg: UserInfo, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move { svc.userinfo(&msg.0).await })
    }
}

/// `GET/POST /oauth/logout` (RP-initiated logout).
#[derive(Message)]
#[rtype(result = "crate::oidc::LogoutOutcome")]
pub struct EndSession {
    pub params: Form,
    pub session_id: Option<String>,
    pub confirmed: bool,
}

impl Handler<EndSession> for AuthActor {
    type Result = ResponseFuture<crate::oidc::LogoutOutcome>;
    fn handle(&mut self, msg: EndSession, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let now = crate::now();
            match signed_in(&svc, msg.session_id.as_deref(), now).await {
                Ok(user) => {
                    svc.end_session(
                        &msg.params,
                        user.as_ref(),
                        msg.session_id.as_deref(),
                        msg.confirmed,
                        now,
                    )
                    .await
                }
                Err(e) => crate::oidc::LogoutOutcome::Fatal(e),
            }
        })
    }
}

/// `POST /clients/register` (RFC 7591): the raw `Authorization` header and JSON body.
#[derive(Message)]
#[rtype(result = "Result<crate::registration::ClientInformation, OAuthError>")]
pub struct RegisterClient {
    pub authorization: Option<Vec<u8>>,
    pub body: Vec<u8>,
}

/// `GET /clients/register/{client_id}` (RFC 7592 §2.1).
#[derive(Message)]
#[rtype(result = "Result<crate::registration::ClientInformation, OAuthError>")]
pub struct ReadRegistration {
    pub client_id: String,
    pub authorization: Option<Vec<u8>>,
}

/// `PUT /clients/register/{client_id}` (RFC 7592 §2.2).
#[derive(Message)]
#[rtype(result = "Result<crate::registration::ClientInformation, OAuthError>")]
pub struct UpdateRegistration {
    pub client_id: String,
    pub authorization: Option<Vec<u8>>,
    pub body: Vec<u8>,
}

/// `DELETE /clients/register/{client_id}` (RFC 7592 §2.3).
#[derive(Message)]
#[rtype(result = "Result<(), OAuthError>")]
pub struct DeleteRegistration {
    pub client_id: String,
    pub authorization: Option<Vec<u8>>,
}

impl Handler<RegisterClient> for ClientActor {
    type Result = ResponseFuture<Result<crate::registration::ClientInformation, OAuthError>>;
    fn handle(&mut self, msg: RegisterClient, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            svc.register_client(msg.authorization.as_deref(), &msg.body, crate::now())
                .await
        })
    }
}

impl Handler<ReadRegistration> for ClientActor {
    type Result = ResponseFuture<Result<crate::registration::ClientInformation, OAuthError>>;
    fn handle(&mut self, msg: ReadRegistration, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            svc.read_registration(&msg.client_id, msg.authorization.as_deref())
                .await
        })
    }
}

impl Handler<UpdateRegistration> for ClientActor {
    type Result = ResponseFuture<Result<crate::registration::ClientInformation, OAuthError>>;
    fn handle(&mut self, msg: UpdateRegistration, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            svc.update_registration(
                &msg.client_id,
                msg.authorization.as_deref(),
                &msg.body,
                crate::now(),
            )
            .await
        })
    }
}

impl Handler<DeleteRegistration> for ClientActor {
    type Result = ResponseFuture<Result<(), OAuthError>>;
    fn handle(&mut self, msg: DeleteRegistration, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            svc.delete_registration(&msg.client_id, msg.authorization.as_deref())
                .await
        })
    }
}

/// An admin API call: the bearer token, and the operation to run once it is found to belong to
/// an admin (see [`crate::admin`]).
pub struct AdminCall<T> {
    pub token: String,
    pub op: T,
}

impl<T: crate::admin::AdminOp> Message for AdminCall<T> {
    type Result = Result<T::Output, OAuthError>;
}

impl<T: crate::admin::AdminOp> Handler<AdminCall<T>> for AdminActor {
    type Result = ResponseFuture<Result<T::Output, OAuthError>>;
    fn handle(&mut self, msg: AdminCall<T>, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let now = crate::now();
            let admin = match svc.authenticate_admin(&msg.token, now).await {
                Ok(admin) => admin,
                Err(e) => {
                    // A refused admin token is worth knowing about (no client to name: the
                    // token may be anything).
                    if svc.events.wants(EventKind::TokenRefused) {
                        svc.emit(EventDraft::new(EventKind::TokenRefused).detail(
                            serde_json::json!({ "endpoint": "admin_api", "error": e.code.as_str() }),
                        ));
                    }
                    return Err(e);
                }
            };
            msg.op.run(svc, admin, now).await
        })
    }
}

/// A dashboard call (`/admin/...` pages): the same operations as [`AdminCall`], for the admin
/// user signed in through the server's own login (the id in their session cookie) rather than a
/// bearer token. Answers the signed-in user too, for the page to name, and the operation's own
/// result apart from the caller's authentication (a page shows a failed operation, such as a
/// form that does not validate, to the admin who is signed in).
pub struct AdminSessionCall<T> {
    pub session_id: String,
    pub op: T,
}

/// What an [`AdminSessionCall`] answers: the caller's authentication failing (outside), or the
/// signed-in admin user and the operation's result.
pub type AdminSessionResult<O> = Result<(User, Result<O, OAuthError>), OAuthError>;

impl<T: crate::admin::AdminOp> Message for AdminSessionCall<T> {
    type Result = AdminSessionResult<T::Output>;
}

impl<T: crate::admin::AdminOp> Handler<AdminSessionCall<T>> for AdminActor {
    type Result = ResponseFuture<AdminSessionResult<T::Output>>;
    fn handle(&mut self, msg: AdminSessionCall<T>, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let now = crate::now();
            let (admin, user) = svc.authenticate_admin_session(&msg.session_id, now).await?;
            let out = msg.op.run(svc, admin, now).await;
            Ok((user, out))
        })
    }
}

/// `GET /account/applications`: the signed-in user and the applications they have authorized;
/// `None` when not signed in.
#[derive(Message)]
#[rtype(result = "Result<Option<(SignedIn, Vec<crate::account::Application>)>, OAuthError>")]
pub struct Applications {
    pub session_id: String,
}

impl Handler<Applications> for AuthActor {
    type Result =
        ResponseFuture<Result<Option<(SignedIn, Vec<crate::account::Application>)>, OAuthError>>;
    fn handle(&mut self, msg: Applications, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let Some(signed_in) = svc.signed_in(&msg.session_id, crate::now()).await? else {
                return Ok(None);
            };
            let apps = svc.applications(&signed_in.user).await?;
            Ok(Some((signed_in, apps)))
        })
    }
}

/// `POST /account/applications/revoke`: `None` when not signed in, else whether there was
/// anything to take back.
#[derive(Message)]
#[rtype(result = "Result<Option<bool>, OAuthError>")]
pub struct RevokeApplication {
    pub session_id: String,
    pub client_id: String,
}

impl Handler<RevokeApplication> for AuthActor {
    type Result = ResponseFuture<Result<Option<bool>, OAuthError>>;
    fn handle(&mut self, msg: RevokeApplication, _: &mut Context<Self>) -> Self::Result {
        let svc = self.svc.clone();
        Box::pin(async move {
            let now = crate::now();
            let Some(signed_in) = svc.signed_in(&msg.session_id, now).await? else {
                return Ok(None);
            };
            svc.revoke_application(&signed_in.user, &msg.client_id, now)
                .await
                .map(Some)
        })
    }
}

/// A message with the caller's tracing span. Actor handlers run as tasks of their own, which would
/// lose the request's span (and with it the request id and trace id on every log line); this
/// carries it across, with the request's id and address for the events the message causes.
pub struct Traced<M>(
    pub M,
    pub tracing::Span,
    pub Option<Arc<crate::events::RequestInfo>>,
);

/// Runs an actor's future inside the caller's span and request.
fn in_request<F: std::future::Future + 'static>(
    fut: F,
    span: tracing::Span,
    request: Option<Arc<crate::events::RequestInfo>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = F::Output>>> {
    use tracing::Instrument;
    match request {
        Some(r) => Box::pin(crate::events::REQUEST.scope(r, fut.instrument(span))),
        None => Box::pin(fut.instrument(span)),
    }
}

impl<M: Message> Message for Traced<M>
where
    M::Result: 'static,
{
    type Result = M::Result;
}

/// Implements `Handler<Traced<M>>` for each listed message of an actor. (Listed one by one: a
/// blanket impl over every `M` sends the trait solver into endless `Traced<Traced<..>>`.)
macro_rules! traced_handler {
    ($actor:ty: $($msg:ty),+ $(,)?) => {
        $(
            impl Handler<Traced<$msg>> for $actor {
                type Result = ResponseFuture<<$msg as Message>::Result>;
                fn handle(&mut self, msg: Traced<$msg>, ctx: &mut Context<Self>) -> Self::Result {
                    let Traced(inner, span, request) = msg;
                    let fut = span.in_scope(|| <Self as Handler<$msg>>::handle(self, inner, ctx));
                    in_request(fut, span, request)
                }
            }
        )+
    };
}

traced_handler!(TokenActor: IssueToken, Introspect, Revoke);
traced_handler!(AuthActor: CurrentUser, Login, Logout, Authorize, Decide, UserInfo, EndSession);
traced_handler!(AuthActor: Applications, RevokeApplication);
traced_handler!(ClientActor: CreateClient, RegisterClient, ReadRegistration, UpdateRegistration, DeleteRegistration);

impl<T: crate::admin::AdminOp> Handler<Traced<AdminCall<T>>> for AdminActor {
    type Result = ResponseFuture<Result<T::Output, OAuthError>>;
    fn handle(&mut self, msg: Traced<AdminCall<T>>, ctx: &mut Context<Self>) -> Self::Result {
        let Traced(inner, span, request) = msg;
        let fut = span.in_scope(|| <Self as Handler<AdminCall<T>>>::handle(self, inner, ctx));
        in_request(fut, span, request)
    }
}

impl<T: crate::admin::AdminOp> Handler<Traced<AdminSessionCall<T>>> for AdminActor {
    type Result = ResponseFuture<AdminSessionResult<T::Output>>;
    fn handle(
        &mut self,
        msg: Traced<AdminSessionCall<T>>,
        ctx: &mut Context<Self>,
    ) -> Self::Result {
        let Traced(inner, span, request) = msg;
        let fut =
            span.in_scope(|| <Self as Handler<AdminSessionCall<T>>>::handle(self, inner, ctx));
        in_request(fut, span, request)
    }
}

/// `addr.traced(msg)`: `send` with the current span (see [`Traced`]).
pub trait SendTraced<A: Actor> {
    fn traced<M>(&self, msg: M) -> actix::dev::Request<A, Traced<M>>
    where
        M: Message + Send + 'static,
        M::Result: Send + 'static,
        A: Handler<Traced<M>>,
        A::Context: actix::dev::ToEnvelope<A, Traced<M>>;
}

impl<A: Actor> SendTraced<A> for Addr<A> {
    fn traced<M>(&self, msg: M) -> actix::dev::Request<A, Traced<M>>
    where
        M: Message + Send + 'static,
        M::Result: Send + 'static,
        A: Handler<Traced<M>>,
        A::Context: actix::dev::ToEnvelope<A, Traced<M>>,
    {
        self.send(Traced(
            msg,
            tracing::Span::current(),
            crate::events::current_request(),
        ))
    }
}
