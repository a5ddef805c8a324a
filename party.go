package tollgate

import (
	"net/url"
	"time"
)

// Party kinds.
const (
	PartyOperator = "operator" // collects money from end users
	PartyProvider = "provider" // supplies the content or service
)

// Party is an operator or a provider.
type Party struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Name       string    `json:"name"`
	Currency   string    `json:"currency"`
	WebhookURL string    `json:"webhook_url,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	// SigningSecret is shown once, in the create and rotate answers, and
	// read for signing notifications; never listed.
	SigningSecret string `json:"signing_secret,omitempty"`
}

// SecretGrace is how long a rotated-out signing secret stays valid.
const SecretGrace = 24 * time.Hour

// Validate checks a party before it is stored.
func (p *Party) Validate() error {
	if err := ValidateID("id", p.ID); err != nil {
		return err
	}
	if p.Kind != PartyOperator && p.Kind != PartyProvider {
		return Errorf(CodeInvalid, "kind: %q must be \"operator\" or \"provider\"", p.Kind)
	}
	if p.Name == "" || len(p.Name) > 200 {
		return Errorf(CodeInvalid, "name: required, at most 200 characters")
	}
	if _, err := ParseCurrency(p.Currency); err != nil {
		return Errorf(CodeInvalid, "currency: %v", err)
	}
	if p.WebhookURL != "" {
		u, err := url.Parse(p.WebhookURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return Errorf(CodeInvalid, "webhook_url: %q must be an absolute http(s) URL", p.WebhookURL)
		}
	}
	return nil
}
