package restjson

// Reasons (awserr.Error.Reason) of the errors this package makes. They
// are stable: operators search logs and audit records for them.
const (
	ReasonBodyRead     = "request.body_read"     // the body could not be read
	ReasonTooLarge     = "request.too_large"     // the body is over the operation's limit
	ReasonJSONSyntax   = "request.json_syntax"   // the body is not JSON
	ReasonJSONType     = "request.json_type"     // a member has the wrong JSON type
	ReasonJSONValue    = "request.json_value"    // a member's value cannot be read (bad base64)
	ReasonJSONTrailing = "request.json_trailing" // data after the JSON document
	ReasonQuery        = "request.query"         // a query parameter cannot be read
	ReasonUnknownRoute = "route.unknown"         // no operation has this method and path
)
