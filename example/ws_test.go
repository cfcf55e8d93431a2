package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// upgrade sends a WebSocket upgrade with an optional bearer token over a
// raw connection and returns the status line, the first frame's payload
// and its opcode.
func upgrade(t *testing.T, c *client, token string) (status string, opcode byte, payload []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(c.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET /ws HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(res.Body)
		validateRaw(t, req+"\r\n", res, b)
		return res.Status + " " + string(b), 0, nil
	}
	validateRaw(t, req+"\r\n", res, nil)
	if got := res.Header.Get("Sec-WebSocket-Accept"); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" { // RFC 6455 §1.3's example
		t.Fatalf("Sec-WebSocket-Accept %q", got)
	}
	head := make([]byte, 2)
	if _, err := io.ReadFull(r, head); err != nil {
		t.Fatal(err)
	}
	payload = make([]byte, head[1]&0x7f)
	if _, err := io.ReadFull(r, payload); err != nil {
		t.Fatal(err)
	}
	return res.Status, head[0] & 0x0f, payload
}

// The WebSocket endpoint upgrades a request whose token Verify accepts and
// refuses one it does not, before any upgrade.
func TestWebSocketGuardedByVerify(t *testing.T) {
	c := startApp(t, config{secret: testSecret})
	tok := c.login("alice", "wonderland")
	status, opcode, payload := upgrade(t, c, tok.AccessToken)
	var hello struct {
		Hello   string `json:"hello"`
		Session string `json:"session"`
	}
	if opcode != 1 || json.Unmarshal(payload, &hello) != nil || hello.Hello == "" || hello.Session == "" {
		t.Fatalf("upgrade with a valid token: %s, opcode %d, %q", status, opcode, payload)
	}
	if status, _, _ := upgrade(t, c, ""); !strings.HasPrefix(status, "401") || !strings.Contains(status, "token_missing") {
		t.Fatalf("upgrade without a token: %s", status)
	}
	expect(t, "refresh", c.refresh(tok.RefreshToken), http.StatusOK, "")
	if status, _, _ := upgrade(t, c, tok.AccessToken); !strings.HasPrefix(status, "401") || !strings.Contains(status, "token_revoked") {
		t.Fatalf("upgrade with a rotated-away token: %s", status)
	}
}
