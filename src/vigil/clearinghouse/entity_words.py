"""An entity as words for a person: what kind it is and its value as read, not the stored
key ("esp_user" / "example|u-2002" reads "Account: u-2002 on example"). The keys are made by
vigil.clearinghouse.entities; every screen that lists entities shows them through here."""

from __future__ import annotations

from vigil.store.models.intake import EntityKind

ENTITY_KIND_WORDS = {
    EntityKind.EMAIL: "E-mail address",
    EntityKind.SCREEN_NAME: "Screen name",
    EntityKind.ESP_USER: "Account",
    EntityKind.IP: "IP address",
    EntityKind.PHONE: "Phone number",
    EntityKind.URL: "Web address",
    EntityKind.DEVICE: "Device",
}
_SEPARATOR = "|"  # entities.esp_user_value and device_value: "<platform or type>|<id>"


def entity_kind_words(kind: str) -> str:
    try:
        return ENTITY_KIND_WORDS[EntityKind(kind)]
    except ValueError:
        return kind.replace("_", " ").capitalize()


def entity_value_words(kind: str, value: str) -> str:
    """The value as a person reads it; keys with a platform or device type are unpacked."""
    scope, separator, ident = value.partition(_SEPARATOR)
    if not separator:
        return value
    if kind == EntityKind.ESP_USER:
        return f"{ident} on {scope}"
    if kind == EntityKind.DEVICE:
        return f"{ident} ({scope})"
    return value


def entity_words(kind: str, value: str) -> str:
    """ "Account: u-2002 on example", "E-mail address: a@example.org"."""
    return f"{entity_kind_words(kind)}: {entity_value_words(kind, value)}"
