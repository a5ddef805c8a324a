package tollgate

// ValidateID checks an identifier chosen by a client (party, contract):
// letters, digits, '-', '_' and '.', at most 64 characters, because cycle and
// workflow IDs are built from them and must stay URL-safe.
func ValidateID(field, id string) error { return validateID(field, id) }
