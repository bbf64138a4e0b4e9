use super::*;

#[test]
fn flags_win_over_the_file_and_unknown_keys_survive_a_save() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(
        &path,
        r#"{"client_id":"from-file","link_format":"bbcode","theme":"dark"}"#,
    )
    .unwrap();

    let resolved = ResolvedSettings::resolve(
        dir.path().to_path_buf(),
        SettingsOverrides {
            client_id: Some("from-flag".into()),
            data_dir: Some(dir.path().join("data")),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(resolved.client_id.as_deref(), Some("from-flag"));
    assert_eq!(resolved.link_format, LinkFormat::Bbcode);
    assert_eq!(resolved.api_base.as_str(), "https://api.imgur.com/");
    assert_eq!(resolved.paths.data_dir, dir.path().join("data"));

    let mut file = SettingsFile::load(&path).unwrap();
    file.set(SettingKey::ClientId, Some("new")).unwrap();
    file.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"theme\": \"dark\""));
    assert!(text.contains("\"client_id\": \"new\""));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "settings must not be readable by others");
    }
}

#[test]
fn bad_values_are_refused_with_what_to_do() {
    let mut file = SettingsFile::default();
    let error = file.set(SettingKey::ApiBase, Some("ftp://x")).unwrap_err();
    assert!(error.to_string().contains("http or https"));
    let error = file.set(SettingKey::LinkFormat, Some("gif")).unwrap_err();
    assert!(error.to_string().contains("markdown"));
    assert!("colour".parse::<SettingKey>().is_err());
}

#[test]
fn the_answer_deadline_comes_from_the_environment_or_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let resolve = |overrides: SettingsOverrides| {
        ResolvedSettings::resolve(dir.path().to_path_buf(), overrides)
    };
    let data = Some(dir.path().join("data"));
    let defaults = resolve(SettingsOverrides {
        data_dir: data.clone(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        defaults.answer_deadline,
        std::time::Duration::from_secs(300)
    );

    let mut file = SettingsFile::default();
    file.set(SettingKey::AnswerDeadline, Some("90")).unwrap();
    assert!(file.set(SettingKey::AnswerDeadline, Some("0")).is_err());
    file.save(&dir.path().join("settings.json")).unwrap();
    let from_file = resolve(SettingsOverrides {
        data_dir: data.clone(),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        from_file.answer_deadline,
        std::time::Duration::from_secs(90)
    );

    let from_env = resolve(SettingsOverrides {
        data_dir: data.clone(),
        answer_deadline: Some("2".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(from_env.answer_deadline, std::time::Duration::from_secs(2));
    let bad = resolve(SettingsOverrides {
        data_dir: data,
        answer_deadline: Some("soon".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert!(bad.to_string().contains("answer-deadline"), "{bad}");
}

#[test]
fn the_send_stall_timeout_comes_from_the_environment_or_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = Some(dir.path().join("data"));
    let resolve = |send_stall_timeout: Option<&str>| {
        ResolvedSettings::resolve(
            dir.path().to_path_buf(),
            SettingsOverrides {
                data_dir: data.clone(),
                send_stall_timeout: send_stall_timeout.map(str::to_owned),
                ..Default::default()
            },
        )
    };
    assert_eq!(
        resolve(None).unwrap().send_stall_timeout,
        upshot_imgur::DEFAULT_SEND_STALL_TIMEOUT
    );
    let mut file = SettingsFile::default();
    file.set(SettingKey::SendStallTimeout, Some("45")).unwrap();
    assert!(file.set(SettingKey::SendStallTimeout, Some("0")).is_err());
    file.save(&dir.path().join("settings.json")).unwrap();
    assert_eq!(
        resolve(None).unwrap().send_stall_timeout,
        std::time::Duration::from_secs(45)
    );
    assert_eq!(
        resolve(Some("2")).unwrap().send_stall_timeout,
        std::time::Duration::from_secs(2)
    );
    let bad = resolve(Some("soon")).unwrap_err();
    assert!(bad.to_string().contains("send-stall-timeout"), "{bad}");
}

#[test]
fn a_broken_settings_file_names_itself_where_it_is_read_strictly() {
    // A change (`update`) is never made over a file it cannot read; a start sets the file
    // aside instead (tests/config_file.rs).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    std::fs::write(&path, "{not json").unwrap();
    let error = SettingsFile::update(&path, |_| Ok(())).unwrap_err();
    assert!(error.to_string().contains("settings.json"));
    assert_eq!(error.code(), "bad_settings_file");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{not json");
}

#[test]
fn the_api_base_can_be_named() {
    assert_eq!(
        parse_api_base("rapidapi").unwrap().as_str(),
        "https://imgur-apiv3.p.rapidapi.com/"
    );
    assert_eq!(
        parse_api_base(" Imgur ").unwrap().as_str(),
        "https://api.imgur.com/"
    );
    let mut file = SettingsFile::default();
    file.set(SettingKey::ApiBase, Some("rapidapi")).unwrap();
    assert_eq!(file.get(SettingKey::ApiBase).as_deref(), Some("rapidapi"));
    let error = parse_api_base("rapid").unwrap_err();
    assert!(error.to_string().contains("imgur, rapidapi"), "{error}");
}
