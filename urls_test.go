package pagecall

import (
	"net/url"
	"testing"
)

func TestMeetAndReplayURLs(t *testing.T) {
	tests := []struct {
		name          string
		fn            func(string, string) string
		room, token   string
		want          string
		wantPath      string
		wantHasAccess bool
	}{
		{"meet", MeetURL, "64269ab541f8f8e9d7320374", "TfowtRYBs0E_trzoTaCmAXKzB1JxDDhi",
			"https://app.pagecall.com/meet?room_id=64269ab541f8f8e9d7320374&access_token=TfowtRYBs0E_trzoTaCmAXKzB1JxDDhi", "/meet", true},
		{"replay", ReplayURL, "r1", "tok",
			"https://app.pagecall.com/replay?room_id=r1&access_token=tok", "/replay", true},
		{"escaped", MeetURL, "a&b=c", "x+y/z?",
			"https://app.pagecall.com/meet?room_id=a%26b%3Dc&access_token=x%2By%2Fz%3F", "/meet", true},
		{"open room, no token", MeetURL, "r1", "", "https://app.pagecall.com/meet?room_id=r1", "/meet", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.fn(tt.room, tt.token)
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// Whatever the IDs hold, the URL parses back to them.
			u, err := url.Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if u.Host != "app.pagecall.com" || u.Path != tt.wantPath || q.Get("room_id") != tt.room || q.Get("access_token") != tt.token || q.Has("access_token") != tt.wantHasAccess {
				t.Errorf("%s parses as host %s path %s query %v", got, u.Host, u.Path, q)
			}
		})
	}
}
