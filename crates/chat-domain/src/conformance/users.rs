//! Users: profiles, provisioning, the directory and built-in accounts.

// Test bodies: a panic is how a failure is reported.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use super::*;

pub async fn upsert_user_refreshes_the_profile<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let before = service.user(ALICE).await.unwrap();
    let after = service
        .upsert_user(UpsertUser {
            id: ALICE,
            username: Username::parse("alice2").unwrap(),
            display_name: Some("Alice".into()),
            avatar_url: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (after.username.as_str(), after.created_at),
        ("alice2", before.created_at)
    );
    assert_eq!(
        service.user(ALICE).await.unwrap().display_name.as_deref(),
        Some("Alice")
    );
    assert_not_found(service.user(UserId(77)).await, Entity::User);
}

fn upsert(id: i64, name: &str) -> UpsertUser {
    UpsertUser {
        id: UserId(id),
        username: Username::parse(name).unwrap(),
        display_name: None,
        avatar_url: None,
    }
}

pub async fn upsert_users_writes_a_batch<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let written = service
        .upsert_users(vec![
            upsert(10, "ten"),
            upsert(11, "eleven"),
            upsert(ALICE.0, "alicia"),
        ])
        .await
        .unwrap();
    let mut names: Vec<(i64, String)> = written
        .iter()
        .map(|u| (u.id.0, u.username.clone()))
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            (1, "alicia".into()),
            (10, "ten".into()),
            (11, "eleven".into())
        ]
    );
    assert_eq!(service.user(UserId(11)).await.unwrap().username, "eleven");
    say(&service, ALICE, UserId(10), "welcome").await;
    assert_eq!(service.unread_count(UserId(10)).await.unwrap(), 1);
}

pub async fn a_token_user_is_provisioned_once_and_renamed_by_its_claim<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let fresh = service.provision_user(UserId(50), None).await.unwrap();
    assert_eq!(fresh.username, "user50");
    let same = service.provision_user(UserId(50), None).await.unwrap();
    assert_eq!(
        (same.username.as_str(), same.created_at),
        ("user50", fresh.created_at)
    );
    let named = service
        .provision_user(UserId(50), Some(Username::parse("dana").unwrap()))
        .await
        .unwrap();
    assert_eq!(named.username, "dana");
    let kept = service.provision_user(ALICE, None).await.unwrap();
    assert_eq!(kept.username, "alice", "no claim leaves the name alone");
}

pub async fn user_search_matches_prefixes_within_the_directory<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    service
        .upsert_users(vec![
            upsert(20, "Alfred"),
            upsert(21, "al_x"),
            upsert(22, "alx"),
        ])
        .await
        .unwrap();
    let find = |q: &'static str, p: PageRequest| {
        let service = service.clone();
        async move {
            let query = SearchQuery::parse(q, &Limits::default()).unwrap();
            let found = service.find_users(BOB, Some(&query), p).await.unwrap();
            (
                found.total,
                found
                    .items
                    .into_iter()
                    .map(|u| u.username)
                    .collect::<Vec<_>>(),
            )
        }
    };
    assert_eq!(
        find("AL", page(1, 10)).await,
        (
            4,
            vec!["al_x".into(), "Alfred".into(), "alice".into(), "alx".into()]
        )
    );
    assert_eq!(
        find("al_", page(1, 10)).await,
        (1, vec!["al_x".into()]),
        "_ is literal"
    );
    assert_eq!(find("al", page(2, 3)).await, (4, vec!["alx".into()]));
    let everyone = service.find_users(BOB, None, page(1, 50)).await.unwrap();
    assert_eq!(everyone.total, 5, "everyone but the caller");
    assert!(everyone.items.iter().all(|u| u.id != BOB));
    assert_eq!(
        service.visible_user(BOB, CAROL).await.unwrap().username,
        "carol"
    );
}

pub async fn contacts_directory_hides_strangers<S: Store>(store: S) {
    let policy = Policy {
        directory: crate::Directory::Contacts,
        ..Policy::default()
    };
    let (service, _) = setup_with(store, policy).await;
    say(&service, ALICE, BOB, "hi").await;
    let found = service.find_users(ALICE, None, page(1, 10)).await.unwrap();
    let ids: Vec<UserId> = found.items.iter().map(|u| u.id).collect();
    assert_eq!((found.total, ids), (1, vec![BOB]));
    assert_eq!(service.visible_user(ALICE, BOB).await.unwrap().id, BOB);
    assert_eq!(service.visible_user(ALICE, ALICE).await.unwrap().id, ALICE);
    assert_not_found(service.visible_user(ALICE, CAROL).await, Entity::User);
    assert_eq!(
        service
            .find_users(CAROL, None, page(1, 10))
            .await
            .unwrap()
            .total,
        0
    );
}

pub async fn accounts_have_unique_usernames_ignoring_case<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    let store = service.store();
    let created = store
        .create_account(Username::parse("Erin").unwrap(), "hash-1".into())
        .await
        .unwrap();
    assert_eq!(created.username, "Erin");
    assert!(![ALICE, BOB, CAROL].contains(&created.id), "a fresh id");
    let taken = store
        .create_account(Username::parse("erin").unwrap(), "hash-2".into())
        .await;
    assert!(matches!(taken, Err(ChatError::Conflict(_))), "{taken:?}");
    let (user, hash) = store
        .account(&Username::parse("ERIN").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.id, hash.as_str()), (created.id, "hash-1"));
    assert!(
        store
            .account(&Username::parse("nobody").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let second = store
        .create_account(Username::parse("frank").unwrap(), "hash-3".into())
        .await
        .unwrap();
    assert_ne!(second.id, created.id);
    say(&service, created.id, second.id, "hello frank").await;
}

/// One case rule ([`crate::case_key`]) for search, login and uniqueness: `İ`, final `Σ`,
/// `ß`/`SS`, Cyrillic and mixed scripts match the way they are written in any case.
pub async fn user_search_and_accounts_fold_case_in_every_script<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    service
        .upsert_users(vec![
            upsert(30, "İlker"),
            upsert(31, "Νικος"),
            upsert(32, "ΝΙΚΟΣ"),
            upsert(33, "Straße"),
            upsert(34, "ılgaz"),
            upsert(35, "Алиса Smith"),
            upsert(36, "Jose\u{301}"),
        ])
        .await
        .unwrap();
    let find = |q: &'static str| {
        let service = service.clone();
        async move {
            let query = SearchQuery::parse(q, &Limits::default()).unwrap();
            let found = service
                .find_users(BOB, Some(&query), page(1, 10))
                .await
                .unwrap();
            let mut ids: Vec<i64> = found.items.iter().map(|u| u.id.0).collect();
            ids.sort_unstable();
            ids
        }
    };
    assert_eq!(find("İl").await, vec![30], "İl");
    assert_eq!(find("İlker").await, vec![30], "the exact name");
    assert_eq!(find("i\u{307}LKER").await, vec![30], "i with a dot above");
    assert_eq!(find("ilk").await, vec![30], "İ typed as i");
    assert_eq!(find("ΝΙΚΟΣ").await, vec![31, 32], "final sigma in capitals");
    assert_eq!(find("νικος").await, vec![31, 32], "final sigma");
    assert_eq!(find("νικοσ").await, vec![31, 32], "medial sigma");
    assert_eq!(find("STRASSE").await, vec![33], "ß is ss");
    assert_eq!(find("strasse").await, vec![33]);
    assert_eq!(find("ılg").await, vec![34], "dotless i");
    assert_eq!(
        find("алиса s").await,
        vec![35],
        "Cyrillic and Latin in one name"
    );
    assert_eq!(find("АЛИСА SMITH").await, vec![35]);
    assert_eq!(find("jos\u{e9}").await, vec![36], "composed or not");
    let store = service.store();
    store
        .create_account(Username::parse("Straße").unwrap(), "h1".into())
        .await
        .unwrap();
    let taken = store
        .create_account(Username::parse("STRASSE").unwrap(), "h2".into())
        .await;
    assert!(matches!(taken, Err(ChatError::Conflict(_))), "{taken:?}");
    store
        .create_account(Username::parse("ΟΔΥΣΣΕΥΣ").unwrap(), "h3".into())
        .await
        .unwrap();
    let (user, hash) = store
        .account(&Username::parse("οδυσσευς").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((user.username.as_str(), hash.as_str()), ("ΟΔΥΣΣΕΥΣ", "h3"));
    let dotted = store
        .create_account(Username::parse("İlker").unwrap(), "h4".into())
        .await
        .unwrap();
    let (found, _) = store
        .account(&Username::parse("i\u{307}lker").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, dotted.id);
}

pub async fn contacts_are_the_people_sharing_a_conversation<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    assert!(service.contacts(ALICE).await.unwrap().is_empty());
    say(&service, ALICE, BOB, "hi").await;
    say(&service, CAROL, ALICE, "hey").await;
    assert_eq!(service.contacts(ALICE).await.unwrap(), vec![BOB, CAROL]);
    assert_eq!(service.contacts(BOB).await.unwrap(), vec![ALICE]);
    let id = say(&service, BOB, ALICE, "again").await;
    assert_eq!(
        service.conversation(BOB, id).await.unwrap().conversation.id,
        id
    );
    assert_not_found(service.conversation(CAROL, id).await, Entity::Conversation);
}

pub async fn a_renamed_user_sends_under_the_new_name<S: Store>(store: S) {
    let (service, _) = setup(store).await;
    say(&service, ALICE, BOB, "as alice").await;
    service
        .provision_user(ALICE, Some(Username::parse("alicia").unwrap()))
        .await
        .unwrap();
    let sent = service
        .send_message(send(ALICE, BOB, "as alicia"))
        .await
        .unwrap();
    assert_eq!(
        sent.conversation.member(ALICE).unwrap().user.username,
        "alicia"
    );
    service
        .upsert_users(vec![upsert(BOB.0, "robert")])
        .await
        .unwrap();
    let sent = service
        .send_message(send(ALICE, BOB, "to robert"))
        .await
        .unwrap();
    assert_eq!(
        sent.conversation.member(BOB).unwrap().user.username,
        "robert"
    );
}
