use syn::parse_quote;

use super::*;

fn model(args: ServiceArgs, item: ItemImpl) -> syn::Result<ServiceModel> {
    match ServiceModel::new(args, item) {
        (model, None) => Ok(model),
        (_, Some(error)) => Err(error),
    }
}

fn users_args() -> ServiceArgs {
    parse_quote!(
        name = "users",
        version = "1.0.0",
        group(name = "user-management", queue_group = "bulk")
    )
}

#[test]
fn a_valid_service() {
    let item: ItemImpl = parse_quote! {
        impl Users {
            #[endpoint("users.create")]
            async fn create(&self, Json(user): Json<NewUser>) -> Result<Json<User>, ServiceError> { todo!() }

            #[endpoint(group = "user-management", queue_group = false, metadata(kind = "bulk"))]
            async fn bulk_import(&self, body: Bytes) {}

            fn helper(&self) {}
        }
    };
    let service = model(users_args(), item).expect("valid");
    assert_eq!(service.name, "users");
    assert_eq!(service.endpoints.len(), 2);
    let create = &service.endpoints[0];
    assert_eq!(
        (create.name.as_str(), create.subject.as_str()),
        ("create", "users.create")
    );
    assert_eq!(create.args.len(), 1);
    assert_eq!(
        create.args[0]
            .param
            .as_ref()
            .map(|p| p.to_string())
            .as_deref(),
        Some("user")
    );
    assert!(matches!(&create.output, Output::Result { .. }));
    let import = &service.endpoints[1];
    assert_eq!(
        (import.name.as_str(), import.subject.as_str()),
        ("bulk-import", "bulk-import")
    );
    assert_eq!(import.group.as_deref(), Some("user-management"));
    assert!(matches!(import.queue_group, QueueGroup::Disabled));
    assert_eq!(
        import.args[0]
            .param
            .as_ref()
            .map(|p| p.to_string())
            .as_deref(),
        Some("body")
    );
    assert!(matches!(import.output, Output::Unit));
    assert_eq!(import.metadata, [("kind".to_owned(), "bulk".to_owned())]);
    let ImplItem::Fn(first) = &service.item.items[0] else {
        panic!("method")
    };
    assert!(first.attrs.is_empty(), "#[endpoint] is stripped");
    assert!(matches!(&service.groups[0].queue_group, QueueGroup::Name(q) if q == "bulk"));
}

fn error_of(args: ServiceArgs, item: ItemImpl) -> String {
    model(args, item).expect_err("invalid").to_string()
}

#[test]
fn every_broken_rule_is_reported() {
    let cases: Vec<(ServiceArgs, ItemImpl, &str)> = vec![
        (
            parse_quote!(name = "bad name", version = "1.0.0"),
            parse_quote!(impl S {}),
            "invalid name",
        ),
        (
            parse_quote!(name = "s", version = "1.0"),
            parse_quote!(impl S {}),
            "SemVer",
        ),
        (
            parse_quote!(version = "1.0.0"),
            parse_quote!(impl S {}),
            "needs `name",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint("a b")] async fn f(&self) {} }),
            "whitespace",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint("a.>.b")] async fn f(&self) {} }),
            "'>'",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint("a..b")] async fn f(&self) {} }),
            "empty token",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint("$SRV.PING")] async fn f(&self) {} }),
            "$SRV",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint] fn f(&self) {} }),
            "async fn",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint] async fn f<T>(&self) {} }),
            "generic",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint] async fn f(&mut self) {} }),
            "&mut self",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint] async fn f() {} }),
            "&self",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint(nam = "x")] async fn f(&self) {} }),
            "unknown key",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint(name = "x.y")] async fn f(&self) {} }),
            "invalid name",
        ),
        (
            users_args(),
            parse_quote!(impl S { #[endpoint] async fn f(&self) {} #[endpoint(name = "f")] async fn g(&self) {} }),
            "is used twice",
        ),
    ];
    for (args, item, expected) in cases {
        let error = error_of(args, item);
        assert!(
            error.contains(expected),
            "expected {expected:?} in {error:?}"
        );
    }
}

#[test]
fn client_parameters_are_named_after_the_arguments() {
    let item: ItemImpl = parse_quote! {
        impl S {
            #[endpoint("users.*.get.>")]
            async fn get(
                &self,
                Subject(s): Subject,
                _headers: Headers,
                token: Bytes,
                (a, b): Json<(u8, u8)>,
                State(db): State<Db>,
            ) -> String { todo!() }
        }
    };
    let service = model(users_args(), item).expect("valid");
    let params: Vec<Option<String>> = service.endpoints[0]
        .args
        .iter()
        .map(|a| a.param.as_ref().map(|p| p.to_string()))
        .collect();
    // `token` and `tail` are the wildcards' parameters; Subject and State take nothing.
    assert_eq!(
        params,
        [
            None,
            Some("headers".to_owned()),
            Some("token_2".to_owned()),
            Some("arg3".to_owned()),
            None
        ]
    );
    assert_eq!(token_params("users.*.get.>"), ["token", "tail"]);
    assert_eq!(token_params("a.*.*"), ["token_1", "token_2"]);
    assert!(token_params("a.b").is_empty());
}

#[test]
fn a_broken_endpoint_leaves_the_rest_generated() {
    let item: ItemImpl = parse_quote! {
        impl S {
            #[endpoint] fn not_async(&self) {}
            #[endpoint(name = "bad name")] async fn badly_named(&self) {}
            #[endpoint] async fn fine(&self) {}
        }
    };
    let (service, error) = ServiceModel::new(users_args(), item);
    let error = error.expect("errors").to_string();
    assert!(error.contains("async fn"), "{error}");
    let names: Vec<&str> = service.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["bad name", "fine"]);
}

#[test]
fn opaque_replies_need_the_client_off() {
    let item: ItemImpl = parse_quote! {
        impl S { #[endpoint] async fn f(&self) -> impl IntoReply { "x" } }
    };
    let error = error_of(users_args(), item.clone());
    assert!(error.contains("client = false"), "{error}");
    let args: ServiceArgs = parse_quote!(name = "users", version = "1.0.0", client = false);
    assert!(!model(args, item).expect("no client, no problem").client);
}
