package distrib

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCert makes a key and a certificate for cn signed by parent (self-signed
// when parent is nil) and writes them as PEM files in dir.
func testCert(t *testing.T, dir, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{cn},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, cn+".pem"), filepath.Join(dir, cn+".key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key, certFile, keyFile
}

// TestDialTLS dials a TLS listener that requires a client certificate from
// the test's CA, as a self-hosted Temporal cluster with mTLS does: the
// engine URL's CA, client certificate and server name are used in the
// handshake (the listener is not Temporal, so the dial then fails).
func TestDialTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caFile, _ := testCert(t, dir, "gyre-test-ca", nil, nil)
	_, _, srvCert, srvKey := testCert(t, dir, "temporal.test", ca, caKey)
	_, _, cliCert, cliKey := testCert(t, dir, "gyre-worker", ca, caKey)
	pair, err := tls.LoadX509KeyPair(srvCert, srvKey)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	seen := make(chan string, 8)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := conn.(*tls.Conn)
			if err := tc.Handshake(); err == nil && len(tc.ConnectionState().PeerCertificates) > 0 {
				seen <- tc.ConnectionState().PeerCertificates[0].Subject.CommonName
			}
			conn.Close()
		}
	}()
	eng, err := ParseEngine("temporal://" + ln.Addr().String() + "?tls_ca=" + caFile + "&tls_cert=" + cliCert + "&tls_key=" + cliKey + "&tls_server_name=temporal.test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := Dial(ctx, eng, "test"); err == nil {
		c.Close()
		t.Fatal("dial of a listener that is not Temporal succeeded")
	}
	select {
	case cn := <-seen:
		if cn != "gyre-worker" {
			t.Errorf("server saw client certificate %q, want gyre-worker", cn)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no TLS handshake with a client certificate reached the server")
	}
}

// TestEngineCredentials checks the options the engine's TLS and API key
// settings make, and that their errors name the file or variable and
// never carry the key.
func TestEngineCredentials(t *testing.T) {
	for _, v := range []string{"TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY", "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_API_KEY"} {
		t.Setenv(v, "")
	}
	plain, _ := ParseEngine("temporal://127.0.0.1:7233")
	if o, err := plain.clientOptions("x"); err != nil || o.ConnectionOptions.TLS != nil || o.Credentials != nil {
		t.Errorf("plain engine: TLS %v, credentials %v, %v; want neither", o.ConnectionOptions.TLS, o.Credentials, err)
	}
	t.Setenv("GYRE_TEST_TEMPORAL_KEY", "secret-key-123")
	cloud, err := ParseEngine("temporal://ns.acct.tmprl.cloud:7233?namespace=ns.acct&api_key_env=GYRE_TEST_TEMPORAL_KEY")
	if err != nil {
		t.Fatal(err)
	}
	if o, err := cloud.clientOptions("x"); err != nil || o.ConnectionOptions.TLS == nil || o.Credentials == nil {
		t.Errorf("API key engine: TLS %v, credentials %v, %v; want both", o.ConnectionOptions.TLS, o.Credentials, err)
	}
	t.Setenv("GYRE_TEST_TEMPORAL_KEY", "")
	if _, err := cloud.clientOptions("x"); err == nil || !strings.Contains(err.Error(), "GYRE_TEST_TEMPORAL_KEY is not set") {
		t.Errorf("unset key variable at dial: %v", err)
	}
	if _, err := ParseEngine("temporal://h:7233?api_key_env=GYRE_TEST_TEMPORAL_KEY"); err == nil || !strings.Contains(err.Error(), "GYRE_TEST_TEMPORAL_KEY is not set") {
		t.Errorf("unset key variable in the URL: %v", err)
	}
	t.Setenv("TEMPORAL_API_KEY", "secret-key-456")
	if o, err := plain.clientOptions("x"); err != nil || o.Credentials == nil || o.ConnectionOptions.TLS == nil {
		t.Errorf("TEMPORAL_API_KEY in the environment: credentials %v, %v; want them", o.Credentials, err)
	}
	bad, _ := ParseEngine("temporal://h:7233?tls_ca=/nonexistent/ca.pem")
	if _, err := bad.clientOptions("x"); err == nil || !strings.Contains(err.Error(), "/nonexistent/ca.pem") || strings.Contains(err.Error(), "secret") {
		t.Errorf("missing CA file: %v", err)
	}
	if _, err := ParseEngine("temporal://h:7233?tls_cert=c.pem"); err == nil {
		t.Error("tls_cert without tls_key accepted")
	}
}
