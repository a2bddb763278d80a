"""hipbot: conversation flows in YAML for people with hip impingement, on Telegram."""
