package pagecall

import (
	"net/url"
	"strings"
)

// AppURL is Pagecall's web app, where meetings are held and replayed.
const AppURL = "https://app.pagecall.com"

// MeetURL returns the URL at which the holder of accessToken (a user's
// AccessToken) joins the meeting in room roomID:
// https://app.pagecall.com/meet?room_id=…&access_token=…, each value
// query-escaped. It is the URL that Pagecall's web, iOS and Android SDKs
// load. With an empty accessToken the URL has no access_token, which is
// enough for an open room.
func MeetURL(roomID, accessToken string) string { return appURL("meet", roomID, accessToken) }

// ReplayURL returns the URL of the recording of room roomID, in the form of
// MeetURL: https://app.pagecall.com/replay?room_id=…&access_token=….
func ReplayURL(roomID, accessToken string) string { return appURL("replay", roomID, accessToken) }

// appURL builds the URL by hand rather than with url.Values.Encode, which
// sorts the keys: Pagecall's documentation puts room_id first.
func appURL(mode, roomID, accessToken string) string {
	var b strings.Builder
	b.WriteString(AppURL + "/" + mode + "?room_id=")
	b.WriteString(url.QueryEscape(roomID))
	if accessToken != "" {
		b.WriteString("&access_token=")
		b.WriteString(url.QueryEscape(accessToken))
	}
	return b.String()
}
