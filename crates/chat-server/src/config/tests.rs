use std::collections::HashMap;

use chat_domain::Rate;

use super::*;

fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Config::from_source(&move |name: &str| map.get(name).cloned())
}

const BASE: [(&str, &str); 2] = [
    ("DATABASE_URL", "postgres://u:dbpass@h/db"),
    ("JWT_SECRET", "s3cret"),
];

fn failing_var(pairs: &[(&str, &str)]) -> &'static str {
    from(pairs).expect_err("expected a configuration error").var
}

#[test]
fn defaults_follow_the_seed() {
    let config = from(&BASE).unwrap();
    assert_eq!(config.port, 3010);
    assert_eq!(config.database.url, "postgres://u:dbpass@h/db");
    assert_eq!(config.database.schema, "chat");
    assert_eq!(config.database.search_language, "simple");
    let english = from(&[BASE.as_slice(), &[("CHAT_SEARCH_LANGUAGE", " English ")]].concat());
    assert_eq!(english.unwrap().database.search_language, "english");
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(config.policy, Policy::default());
    assert_eq!(config.sockets.ping_interval, Duration::from_secs(25));
    assert_eq!(config.sockets.max_payload, 1_000_000);
    assert_eq!(config.sockets.inbound_queue, 256);
    assert_eq!(config.database.max_write_batch, 256);
    assert_eq!(config.jwt.key, VerifyKey::Hs256Secret("s3cret".into()));
    assert_eq!(config.jwt.user_claim, "id");
    assert!(config.jwt.require_exp && config.builtin_accounts);
    assert_eq!(config.account_rates, AccountRates::default());
    assert_eq!(config.hashing, HashingLimits::default());
    assert_eq!(config.body_timeout, Duration::from_secs(10));
}

#[test]
fn credential_limits_and_the_body_timeout_are_read_and_refuse_zero() {
    let mut pairs = BASE.to_vec();
    pairs.extend([
        ("CHAT_LOGIN_RATE_PER_MIN", "3"),
        ("CHAT_LOGIN_BURST", "4"),
        ("CHAT_LOGIN_IP_RATE_PER_MIN", "60"),
        ("CHAT_LOGIN_IP_BURST", "50"),
        ("CHAT_REGISTER_RATE_PER_MIN", "2"),
        ("CHAT_REGISTER_BURST", "1"),
        ("CHAT_HASH_CONCURRENCY", "3"),
        ("CHAT_HASH_QUEUE", "0"),
        ("CHAT_BODY_TIMEOUT_SECS", "7"),
    ]);
    let config = from(&pairs).unwrap();
    assert_eq!(
        config.account_rates,
        AccountRates {
            login_per_account: Rate::per_minute(3, 4),
            login_per_address: Rate::per_minute(60, 50),
            register_per_address: Rate::per_minute(2, 1),
        }
    );
    assert_eq!(
        config.hashing,
        HashingLimits {
            concurrent: 3,
            queue: 0
        },
        "no queue: only as many as run"
    );
    assert_eq!(config.body_timeout, Duration::from_secs(7));
    for var in [
        "CHAT_LOGIN_RATE_PER_MIN",
        "CHAT_LOGIN_BURST",
        "CHAT_LOGIN_IP_RATE_PER_MIN",
        "CHAT_LOGIN_IP_BURST",
        "CHAT_REGISTER_RATE_PER_MIN",
        "CHAT_REGISTER_BURST",
        "CHAT_HASH_CONCURRENCY",
        "CHAT_BODY_TIMEOUT_SECS",
    ] {
        let mut pairs = BASE.to_vec();
        pairs.push((var, "0"));
        assert_eq!(failing_var(&pairs), var);
    }
    let mut pairs = BASE.to_vec();
    pairs.push(("CHAT_HASH_QUEUE", "-1"));
    assert_eq!(failing_var(&pairs), "CHAT_HASH_QUEUE");
}

#[test]
fn db_parts_build_an_encoded_url() {
    let config = from(&[
        ("DB_NAME", "chat db"),
        ("DB_HOST", "db.internal"),
        ("DB_PORT", "6543"),
        ("DB_USERNAME", "app"),
        ("DB_PASSWORD", "p@ss:w/rd"),
        ("DB_SYNC", "false"),
        ("JWT_SECRET", "x"),
    ])
    .unwrap();
    assert_eq!(
        config.database.url,
        "postgres://app:p%40ss%3Aw%2Frd@db.internal:6543/chat%20db"
    );
}

#[test]
fn bad_values_name_their_variable() {
    let with = |extra: (&'static str, &'static str)| {
        let mut pairs = BASE.to_vec();
        pairs.push(extra);
        pairs
    };
    assert_eq!(
        failing_var(&[("DB_NAME", "x"), ("DB_PORT", "abc"), ("JWT_SECRET", "s")]),
        "DB_PORT"
    );
    assert_eq!(failing_var(&with(("PORT", "70000"))), "PORT");
    assert_eq!(failing_var(&with(("DB_SYNC", "maybe"))), "DB_SYNC");
    assert_eq!(failing_var(&with(("LOG_FORMAT", "xml"))), "LOG_FORMAT");
    assert_eq!(
        failing_var(&with(("FRONTEND_URL", "localhost:3000"))),
        "FRONTEND_URL"
    );
    assert_eq!(
        failing_var(&with(("CHAT_TRUSTED_PROXIES", "10.0.0.1, lb.internal"))),
        "CHAT_TRUSTED_PROXIES"
    );
    assert_eq!(
        failing_var(&with(("CHAT_MAX_PAGE_SIZE", "0"))),
        "CHAT_MAX_PAGE_SIZE"
    );
    assert_eq!(failing_var(&with(("CHAT_WORKERS", "0"))), "CHAT_WORKERS");
    for var in [
        "CHAT_DB_WRITE_LANES",
        "CHAT_DB_WRITE_BATCH",
        "CHAT_SOCKET_INBOUND_QUEUE",
        "CHAT_SOCKET_CONNECT_TIMEOUT_MS",
        "CHAT_SOCKET_ATTACHMENT_TIMEOUT_MS",
        "CHAT_MAX_CONNECTIONS_PER_IP",
        "CHAT_MAX_SOCKETS_PER_USER",
    ] {
        assert_eq!(failing_var(&with((var, "0"))), var);
    }
    assert_eq!(
        failing_var(&with(("CHAT_SEND_RATE_PER_SEC", "-1"))),
        "CHAT_SEND_RATE_PER_SEC"
    );
    assert_eq!(
        failing_var(&with(("CHAT_SEND_BURST", "x"))),
        "CHAT_SEND_BURST"
    );
    assert_eq!(
        failing_var(&with(("JWT_ALGORITHM", "RS256"))),
        "JWT_ALGORITHM"
    );
    assert_eq!(
        failing_var(&[("DATABASE_URL", "mysql://x"), ("JWT_SECRET", "s")]),
        "DATABASE_URL"
    );
}

#[test]
fn socket_abuse_limits_default_to_short_deadlines_and_nat_sized_caps() {
    let config = from(&BASE).unwrap();
    let sockets = config.sockets;
    assert_eq!(sockets.connect_timeout, Duration::from_secs(10));
    assert_eq!(sockets.attachment_timeout, Duration::from_secs(20));
    assert_eq!(sockets.max_connections_per_ip, 1000);
    assert_eq!(sockets.max_sockets_per_user, 20);
    assert_eq!(
        config.jwt.leeway,
        Duration::from_secs(30),
        "how long a socket outlives exp"
    );
    let mut pairs = BASE.to_vec();
    pairs.extend([
        ("CHAT_SOCKET_CONNECT_TIMEOUT_MS", "2500"),
        ("CHAT_SOCKET_ATTACHMENT_TIMEOUT_MS", "700"),
        ("CHAT_MAX_CONNECTIONS_PER_IP", "5"),
        ("CHAT_MAX_SOCKETS_PER_USER", "3"),
        ("JWT_LEEWAY_SECS", "0"),
    ]);
    let config = from(&pairs).unwrap();
    let sockets = config.sockets;
    assert_eq!(sockets.connect_timeout, Duration::from_millis(2500));
    assert_eq!(sockets.attachment_timeout, Duration::from_millis(700));
    assert_eq!(sockets.max_connections_per_ip, 5);
    assert_eq!(sockets.max_sockets_per_user, 3);
    assert_eq!(config.jwt.leeway, Duration::ZERO);
}

#[test]
fn a_database_and_a_key_are_required() {
    assert_eq!(failing_var(&[("JWT_SECRET", "s")]), "DATABASE_URL");
    assert_eq!(
        failing_var(&[("DATABASE_URL", "postgres://h/db")]),
        "JWT_SECRET"
    );
}

#[test]
fn a_public_key_selects_rs256_or_es256() {
    let pem = "-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC KEY-----";
    let key = [("DATABASE_URL", "postgres://h/db"), ("JWT_PUBLIC_KEY", pem)];
    let with = |extra: &[(&'static str, &'static str)]| [&key[..], extra].concat();
    let es256 = with(&[
        ("JWT_ALGORITHM", "es256"),
        ("CHAT_BUILTIN_ACCOUNTS", "false"),
    ]);
    let config = from(&es256).unwrap();
    match config.jwt.key {
        VerifyKey::Es256Pem(pem) => assert!(pem.contains("\nAAAA\n")),
        other => panic!("expected an ES256 key, got {other:?}"),
    }
    assert_eq!(config.policy.directory, Directory::Contacts);
    let hs256 = with(&[
        ("JWT_ALGORITHM", "HS256"),
        ("CHAT_BUILTIN_ACCOUNTS", "false"),
    ]);
    assert_eq!(failing_var(&hs256), "JWT_ALGORITHM");
    assert_eq!(
        failing_var(&with(&[])),
        "CHAT_BUILTIN_ACCOUNTS",
        "accounts need a secret to sign with"
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let mut vars = BASE.to_vec();
    vars.extend([
        ("CHAT_ADMIN_TOKEN", "admin-token-0123456789"),
        ("CHAT_METRICS_TOKEN", "metrics-token-0123456789"),
    ]);
    let config = from(&vars).unwrap();
    assert!(config.api.admin_token.is_some() && config.metrics_token.is_some());
    let debug = format!("{config:?}");
    for secret in ["s3cret", "dbpass", "admin-token", "metrics-token"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

#[test]
fn a_cluster_is_read_from_redis_url_and_a_bad_one_is_refused_without_its_password() {
    assert_eq!(from(&BASE).unwrap().cluster, None);
    let with = |pairs: &[(&str, &str)]| {
        let mut all = BASE.to_vec();
        all.extend_from_slice(pairs);
        from(&all)
    };
    let cluster = with(&[("REDIS_URL", "redis://:pw@10.0.0.7:6379/2")])
        .unwrap()
        .cluster
        .unwrap();
    assert_eq!(cluster.prefix, "chat");
    assert_eq!(cluster.presence_ttl, Duration::from_secs(15));
    for bad in [
        "rediss://h:6379",
        "http://h",
        "redis://127.0.0.1:99999",
        "redis://:s3cretpw@h:6379/abc",
    ] {
        let error = with(&[("REDIS_URL", bad)]).expect_err(bad);
        assert_eq!(error.var, "REDIS_URL", "{bad}");
        assert!(!error.to_string().contains("s3cretpw"), "{error}");
    }
    let error = with(&[("REDIS_URL", "redis://h"), ("CHAT_REDIS_PREFIX", "a b")]).unwrap_err();
    assert_eq!(error.var, "CHAT_REDIS_PREFIX");
    let error = with(&[("REDIS_URL", "redis://h"), ("CHAT_PRESENCE_TTL_SECS", "0")]).unwrap_err();
    assert_eq!(error.var, "CHAT_PRESENCE_TTL_SECS");
}

#[test]
fn the_client_bundle_and_the_web_app_are_served_from_web_by_default_and_can_be_turned_off() {
    let config = from(&BASE).unwrap();
    assert!(config.browser.serve_client && config.browser.web_app);
    assert_eq!(
        config.browser.client_dir,
        std::path::PathBuf::from(DEFAULT_CLIENT_DIR)
    );
    let mut pairs = BASE.to_vec();
    pairs.extend([
        ("CHAT_SERVE_CLIENT", "false"),
        ("CHAT_WEB_APP", "false"),
        ("CHAT_CLIENT_DIR", "/srv/chat/client"),
    ]);
    let config = from(&pairs).unwrap();
    assert!(!config.browser.serve_client && !config.browser.web_app);
    assert_eq!(config.browser.client_dir.to_str(), Some("/srv/chat/client"));
    let mut pairs = BASE.to_vec();
    pairs.push(("CHAT_SERVE_CLIENT", "no"));
    assert_eq!(failing_var(&pairs), "CHAT_SERVE_CLIENT");
}

#[test]
fn webhooks_need_a_url_with_a_host_and_a_long_secret_and_turn_the_outbox_on() {
    fn with<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut all = BASE.to_vec();
        all.extend_from_slice(pairs);
        all
    }
    let off = from(&BASE).unwrap();
    assert!(off.webhooks.is_none() && !off.database.webhook_outbox);
    let secret = ("CHAT_WEBHOOK_SECRET", "webhook-secret-0123456789");
    let on = from(&with(&[
        ("CHAT_WEBHOOK_URL", "https://push.example.com/hook"),
        secret,
    ]))
    .unwrap();
    assert!(on.webhooks.is_some() && on.database.webhook_outbox);
    assert!(!format!("{on:?}").contains("webhook-secret"));
    for url in [
        "push.example.com/hook",
        "ftp://push.example.com",
        "http://",
        "https://a b",
    ] {
        let vars = with(&[("CHAT_WEBHOOK_URL", url), secret]);
        assert_eq!(failing_var(&vars), "CHAT_WEBHOOK_URL", "{url}");
    }
    let short = with(&[
        ("CHAT_WEBHOOK_URL", "https://push.example.com/hook"),
        ("CHAT_WEBHOOK_SECRET", "short"),
    ]);
    assert_eq!(failing_var(&short), "CHAT_WEBHOOK_SECRET");
    assert_eq!(failing_var(&with(&[secret])), "CHAT_WEBHOOK_URL");
}
