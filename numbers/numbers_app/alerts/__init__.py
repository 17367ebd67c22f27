"""Alerts: the worker's rules (conditions), one alert per condition until it clears (engine), who gets
what (subscriptions), the in-app inbox, e-mail and webhooks (channels, delivery), the daily digest."""
