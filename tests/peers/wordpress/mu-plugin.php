<?php
/*
 * Must-use plugin of the peer WordPress (tests/peers/wordpress.py): a test machine sends no mail
 * and makes no outgoing HTTP request (update checks, pingbacks, oEmbed discovery).
 */
if (!function_exists('wp_mail')) {
    function wp_mail($to, $subject, $message, $headers = '', $attachments = []) {
        return true;
    }
}
add_filter('pre_http_request', function () {
    return new WP_Error('http_request_blocked', 'the test peer makes no outgoing requests');
}, 0);
