package contract

import "strings"

// EventKey encodes an object key the way S3 writes it into event
// notifications: application/x-www-form-urlencoded (Java URLEncoder rules:
// A-Z a-z 0-9 . - * _ kept, space as '+', every other byte of the UTF-8
// encoding as %XX upper-case) except that '/' is kept.
//
// Sources: the S3 user guide, "Event message structure" (notification-
// content-structure): "The object key name value is URL encoded. For
// example, "red flower.jpg" becomes "red+flower.jpg" (Amazon S3 returns
// "application/x-www-form-urlencoded" as the content type in the
// response)"; observed events: "this im + age blah.txt" →
// "this+im+%2B+age+blah.txt" (aws/aws-sdk-net#640), '=' → "%3D"
// (aws/aws-sam-cli#379), ':' → "%3A" (aws/aws-sdk-js#837); and '/' kept
// in real S3 events, which minio changed its encoding to match
// (minio/minio#11665: "the slash character is not encoded, while
// otherwise using query-style encoding (eg space -> +)"). S3 applies the
// same encoding to the key in the events it sends to EventBridge. The
// state machine's key pattern sees this form, so whatever filters keys
// as the pipeline does (a sync) matches against it too.
func EventKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '.', c == '-', c == '*', c == '_', c == '/':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
