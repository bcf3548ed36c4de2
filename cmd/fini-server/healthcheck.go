package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/cmd/internal/envflag"
)

// healthcheckOptions are the flags of healthcheck. addr, adminAddr and tlsCert mean what they
// mean to serve, and read the same variables, so that one environment (a container's)
// configures both.
type healthcheckOptions struct {
	addr, adminAddr, tlsCert string
	ready                    bool
	timeout                  time.Duration
}

func (a *app) healthcheckCmd() *cobra.Command {
	var o healthcheckOptions
	cmd := &cobra.Command{
		Use:   "healthcheck [--addr HOST:PORT] [--admin-addr HOST:PORT] [--ready]",
		Short: "Exit 0 if a running server answers /healthz (or /readyz), 1 if not: a container's HEALTHCHECK",
		Long: `Ask a running fini-server whether it is healthy: GET /healthz (the process serves HTTP),
or /readyz with --ready (and its database answers), on --admin-addr when set, else on --addr.
They read the variables serve reads (FINI_ADDR, FINI_ADMIN_ADDR), so that in a container the
one environment configures both; an unspecified host (0.0.0.0, [::] or none) is asked on
loopback. When --admin-addr is unset and --tls-cert (env FINI_TLS_CERT) is set, the API
listener speaks HTTPS: the request then trusts exactly the certificate in that file.

It prints one line, and exits 0 on a 200 answer within --timeout, 1 on anything else (no
answer, another status, a redirect). It sends no API key and prints no response body. It is
what the container image's HEALTHCHECK runs, since the image has no shell and no curl.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.healthcheck(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "the server's --addr (env FINI_ADDR)")
	f.StringVar(&o.adminAddr, "admin-addr", "", "the server's --admin-addr, asked instead of --addr when set (env FINI_ADMIN_ADDR)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "the server's --tls-cert: ask --addr over HTTPS, trusting this certificate (env FINI_TLS_CERT)")
	for flag, env := range map[string]string{"addr": "FINI_ADDR", "admin-addr": "FINI_ADMIN_ADDR", "tls-cert": "FINI_TLS_CERT"} {
		envflag.Bind(f, flag, env)
	}
	f.BoolVar(&o.ready, "ready", false, "ask /readyz (the database answers too) instead of /healthz")
	f.DurationVar(&o.timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}

// healthcheck asks the server and prints one line: healthy on stdout, or returns the error
// that run prints on stderr.
func (a *app) healthcheck(ctx context.Context, o healthcheckOptions) error {
	if o.timeout <= 0 {
		return errors.New("--timeout: want a positive duration, e.g. 3s")
	}
	flag, target := "--addr", o.addr
	if o.adminAddr != "" {
		flag, target = "--admin-addr", o.adminAddr
	}
	host, port, err := net.SplitHostPort(target)
	if err != nil || port == "" {
		return fmt.Errorf("%s %q: want HOST:PORT, e.g. 127.0.0.1:8080", flag, target)
	}
	// No proxy: the server is local, and a proxy in the environment must not answer for it.
	transport := &http.Transport{DisableKeepAlives: true}
	scheme := "http"
	if o.adminAddr == "" && o.tlsCert != "" {
		scheme = "https"
		if transport.TLSClientConfig, err = pinnedTLS(o.tlsCert); err != nil {
			return err
		}
	}
	path := "/healthz"
	if o.ready {
		path = "/readyz"
	}
	url := scheme + "://" + net.JoinHostPort(loopbackIfUnspecified(host), port) + path
	c := &http.Client{
		Transport: transport,
		Timeout:   o.timeout,
		// A redirect is not health: the answer must come from the server itself.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	req.Header.Set("User-Agent", "fini-server-healthcheck")
	res, err := c.Do(req)
	if err != nil {
		// The *url.Error names the method and the URL, which holds no secret.
		return fmt.Errorf("unhealthy: %w", err)
	}
	// Drained so that the status is the whole answer's; the body is not shown.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: GET %s: %s", url, res.Status)
	}
	fmt.Fprintf(a.stdout, "healthy: GET %s: %s\n", url, res.Status)
	return nil
}

// loopbackIfUnspecified returns the loopback address for a listen host that means every
// interface (none, 0.0.0.0 or ::), of the same family, and host itself otherwise.
func loopbackIfUnspecified(host string) string {
	if host == "" {
		return "127.0.0.1"
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil || !ip.IsUnspecified():
		return host
	case ip.To4() != nil:
		return "127.0.0.1"
	}
	return "::1"
}

// pinnedTLS trusts exactly the first certificate of the PEM file certFile, whatever names
// it holds: the health check asks the server that serves that file, on an address the
// certificate need not name (loopback), and sends nothing secret.
func pinnedTLS(certFile string) (*tls.Config, error) {
	data, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert: %w", err)
	}
	var leaf []byte
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		if block.Type == "CERTIFICATE" {
			leaf = block.Bytes
			break
		}
	}
	if leaf == nil {
		return nil, fmt.Errorf("--tls-cert %s: no PEM certificate in the file", certFile)
	}
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is not verified against roots; VerifyConnection checks the one
		// certificate instead, which is stricter for this use.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, leaf) {
				return errors.New("the server's certificate is not the one in --tls-cert")
			}
			return nil
		},
	}, nil
}
