package ca

import (
	"fmt"
	"net/http"

	"github.com/iamra/iamra/awserr"
)

// The error codes ACM-PCA's JSON 1.1 protocol returns. All of them travel
// with HTTP 400, as PCA sends them.
const (
	CodeInvalidArgs             = "InvalidArgsException"
	CodeInvalidArn              = "InvalidArnException"
	CodeInvalidState            = "InvalidStateException"
	CodeInvalidRequest          = "InvalidRequestException"
	CodeMalformedCSR            = "MalformedCSRException"
	CodeMalformedCertificate    = "MalformedCertificateException"
	CodeCertificateMismatch     = "CertificateMismatchException"
	CodeResourceNotFound        = "ResourceNotFoundException"
	CodeRequestInProgress       = "RequestInProgressException"
	CodeRequestAlreadyProcessed = "RequestAlreadyProcessedException"
	CodeRequestFailed           = "RequestFailedException"
	CodeConcurrentModification  = "ConcurrentModificationException"
	CodeLimitExceeded           = "LimitExceededException"
	CodeInvalidTag              = "InvalidTagException"
	CodeTooManyTags             = "TooManyTagsException"
	CodeValidation              = "ValidationException"
	CodeInvalidNextToken        = "InvalidNextTokenException"
)

// pcaError builds a PCA-shaped error: code and client message, plus the
// operator's reason and detail.
func pcaError(code, message, reason, format string, args ...any) *awserr.Error {
	return awserr.New(code, http.StatusBadRequest, message).Because(reason, format, args...)
}

func invalidArgs(reason, message string, args ...any) *awserr.Error {
	msg := fmt.Sprintf(message, args...)
	return pcaError(CodeInvalidArgs, msg, reason, "%s", msg)
}

func malformedCSR(reason, format string, args ...any) *awserr.Error {
	return pcaError(CodeMalformedCSR, "The certificate signing request is invalid.", reason, format, args...)
}
