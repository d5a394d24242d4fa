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

/* `peer.php announce 0` makes the site hide where its REST API is, as some hardening plugins do:
 * no `Link: rel="https://api.w.org/"` header and no <link> in the page head. */
add_action('init', function () {
    if (get_option('communis_peer_hide_api_link')) {
        remove_action('template_redirect', 'rest_output_link_header', 11);
        remove_action('wp_head', 'rest_output_link_wp_head', 10);
    }
});
