"""A stateful Salesforce emulator (REST, SOQL, Bulk API 2.0, Metadata API) for tests and the demo."""
