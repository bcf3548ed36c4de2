package server

// NewUnvalidated builds the stack with neither request nor response validation: the
// benchmarks' "off" baseline. Test-only, because handlers rely on validated requests.
func NewUnvalidated(cfg Config) (*Server, error) {
	cfg.ResponseValidation = Off
	cfg.skipRequestValidation = true
	return New(cfg)
}
