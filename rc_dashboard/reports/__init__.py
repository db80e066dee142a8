"""Documents that leave the app: scorecards, ward summaries, locality packs."""
