//! `tgpay login`: signs in to Telegram (or its test DCs, or a running sandbox) and keeps the
//! session in a file for the other commands.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use grammers_client::SignInError;
use serde_json::json;
use tgpay_cli::session::{self, FileSession};
use tgpay_sandbox::handle::{key_from_hex, preshared_session};

use crate::connect::{self, read_sandbox_info};
use crate::out::{Escaped, Out};
use crate::{CmdResult, Failure, secrets};

/// `tgpay login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Where to keep the session (it holds the account's auth key: keep it private).
    #[arg(long, env = "TGPAY_SESSION", default_value = "tgpay.session")]
    pub session: std::path::PathBuf,
    /// The API id (from my.telegram.org).
    #[arg(long, env = "TGPAY_API_ID")]
    pub api_id: Option<i32>,
    /// Ask for the API hash (from my.telegram.org) instead of reading TGPAY_API_HASH; it is never
    /// taken from the command line, where other users could read it.
    #[arg(long)]
    pub api_hash: bool,
    /// The phone number (international format); asked for when absent.
    #[arg(long, env = "TGPAY_PHONE")]
    pub phone: Option<String>,
    /// Log in to Telegram's test environment instead of production.
    #[arg(long, conflicts_with = "sandbox")]
    pub test_dc: bool,
    /// Log in to a running `tgpay sandbox` (its connection line file), on one of its guest keys.
    #[arg(long, value_name = "CONNECTION_JSON_FILE")]
    pub sandbox: Option<std::path::PathBuf>,
    /// Which of the sandbox's guest keys to use.
    #[arg(long, default_value_t = 0)]
    pub guest_key: usize,
}

fn fresh_session(args: &LoginArgs) -> Result<(FileSession, Option<String>), Failure> {
    let failure = |e: tgpay_cli::session::SessionError| Failure::BadInput(e.to_string());
    if let Some(path) = &args.sandbox {
        let info = read_sandbox_info(path)?;
        let key_hex = info
            .login
            .guest_auth_keys
            .get(args.guest_key)
            .ok_or_else(|| {
                Failure::BadInput(format!(
                    "the sandbox has {} guest keys; pick one with --guest-key 0..{}",
                    info.login.guest_auth_keys.len(),
                    info.login.guest_auth_keys.len().saturating_sub(1)
                ))
            })?;
        let key = key_from_hex(key_hex)
            .ok_or_else(|| Failure::BadInput("a guest key is not 512 hex characters".to_owned()))?;
        let addr: SocketAddr = format!("{}:{}", info.host, info.port)
            .parse()
            .map_err(|e| Failure::BadInput(format!("the sandbox address is not valid: {e}")))?;
        let data = preshared_session(info.dc_id, addr, &key)
            .map_err(|e| Failure::BadInput(e.to_string()))?;
        let code = Some(info.login.code.clone()).filter(|c| !c.is_empty());
        return Ok((
            FileSession::create(&args.session, data).map_err(failure)?,
            code,
        ));
    }
    let data = if args.test_dc {
        session::test_dcs()
    } else {
        session::production()
    };
    Ok((
        FileSession::create(&args.session, data).map_err(failure)?,
        None,
    ))
}

pub async fn login(out: &Out, args: &LoginArgs) -> CmdResult {
    let sandbox = args.sandbox.is_some();
    let hash_given = args.api_hash || std::env::var_os("TGPAY_API_HASH").is_some();
    let (api_id, api_hash) = match args.api_id {
        Some(id) if hash_given => (
            id,
            secrets::read("TGPAY_API_HASH", "API hash")?
                .trim()
                .to_owned(),
        ),
        _ if sandbox => (args.api_id.unwrap_or(4), "sandbox".to_owned()),
        _ => {
            return Err(Failure::BadInput(
                "an API id and hash are needed: get them at https://my.telegram.org, pass \
                 --api-id (or set TGPAY_API_ID) and set TGPAY_API_HASH (or pass --api-hash to be \
                 asked for it)"
                    .to_owned(),
            ));
        }
    };
    let phone = match &args.phone {
        Some(phone) => phone.clone(),
        None => secrets::ask("TGPAY_PHONE", "Phone number")?,
    };
    let (session, sandbox_code) = fresh_session(args)?;
    let session = Arc::new(session);
    let conn = connect::start(Arc::clone(&session), api_id, None);
    let client = conn.payments.client().clone();

    let token = client
        .request_login_code(&phone, &api_hash)
        .await
        .map_err(|e| Failure::from(tgpay::Error::from(e)))?;
    if let Some(code) = &sandbox_code
        && std::env::var_os("TGPAY_CODE").is_none()
    {
        out.note(&format!("(the sandbox's login code is {code})"));
    }
    let code = secrets::ask("TGPAY_CODE", "Login code")?;
    let user = match client.sign_in(&token, &code).await {
        Ok(user) => user,
        Err(SignInError::PasswordRequired(password_token)) => {
            let hint = password_token.hint().map(str::to_owned);
            let prompt = match &hint {
                Some(hint) => format!("2FA password (hint: {})", Escaped(hint)),
                None => "2FA password".to_owned(),
            };
            let password = secrets::read("TGPAY_PASSWORD", &prompt)?;
            match client
                .check_password(password_token, password.as_bytes())
                .await
            {
                Ok(user) => user,
                Err(SignInError::InvalidPassword(_)) => {
                    return Err(Failure::BadInput(format!(
                        "the 2FA password is wrong{}: try again",
                        hint.map(|h| format!(" (hint: {h})")).unwrap_or_default()
                    )));
                }
                Err(e) => return Err(sign_in_failure(e)),
            }
        }
        Err(e) => return Err(sign_in_failure(e)),
    };
    session.save().map_err(|e| Failure::Failed(e.to_string()))?;
    let name = user.full_name();
    let id = user.id().bare_id_unchecked();
    out.emit(
        || {
            format!(
                "Logged in as {} (id {id}); the session is in {}.",
                Escaped(&name),
                show(&args.session)
            )
        },
        || json!({ "ok": true, "user_id": id, "name": name, "session": args.session }),
    );
    Ok(())
}

fn show(path: &Path) -> String {
    path.display().to_string()
}

fn sign_in_failure(error: SignInError) -> Failure {
    match error {
        SignInError::InvalidCode => {
            Failure::BadInput("the login code is wrong or expired: log in again".to_owned())
        }
        SignInError::SignUpRequired => Failure::BadInput(
            "this phone number has no Telegram account: sign up in an official app first"
                .to_owned(),
        ),
        SignInError::Other(e) => Failure::from(tgpay::Error::from(e)),
        other => Failure::Failed(other.to_string()),
    }
}
