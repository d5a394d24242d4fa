<?php
/*
 * Operations on the peer WordPress through its own PHP API (tests/peers/wordpress.py runs this
 * with php-cli): a JSON list of operations on stdin, a JSON list of results on stdout.
 *
 * install                  wp_install(), permalinks, no sample content
 * publish   kind title text date_gmt? image_b64? image_name?   wp_insert_post (an image is uploaded and shown inline)
 * edit      id text? title?                          wp_update_post
 * delete    id trash?                                wp_delete_post (or to the trash)
 * comment   post parent text author approved user?   wp_insert_comment (approved: 1, 0 = held, "spam")
 * moderate  id status (approve|hold|spam|trash|delete)  wp_set_comment_status / wp_delete_comment
 * reset                    every post, page, attachment and comment deleted for good
 * permalinks structure     "" (plain) or "/%postname%/" (pretty)
 * announce  on             1: the home page announces the REST API (Link header), 0: it hides it
 * truth                    what the public sees: published posts and pages, approved comments
 *                          (content as the_content renders it), with every comment's status
 */
$tree = getenv('COMMUNIS_WP_TREE');
$_SERVER['HTTP_HOST'] = getenv('COMMUNIS_WP_HOST');
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = parse_url('http://' . $_SERVER['HTTP_HOST'], PHP_URL_PORT);
define('ABSPATH', $tree . '/');
$ops = json_decode(file_get_contents('php://stdin'), true);
if ($ops[0]['op'] === 'install') {
    define('WP_INSTALLING', true);
}
require ABSPATH . 'wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/image.php';

function peer_fail(string $why): void {
    fwrite(STDERR, $why . "\n");
    exit(1);
}

function peer_image(array $op): array {
    $upload = wp_upload_bits($op['image_name'], null, base64_decode($op['image_b64']));
    if (!empty($upload['error'])) {
        peer_fail('upload: ' . $upload['error']);
    }
    $id = wp_insert_attachment(['post_mime_type' => 'image/png', 'post_title' => $op['image_name'],
                                'post_status' => 'inherit', 'guid' => $upload['url']], $upload['file']);
    return [$id, $upload['url']];
}

function peer_truth(): array {
    $items = [];
    foreach (get_posts(['post_type' => ['post', 'page'], 'post_status' => 'publish', 'numberposts' => -1,
                        'orderby' => 'ID', 'order' => 'ASC']) as $post) {
        setup_postdata($GLOBALS['post'] = $post);
        $items[] = ['type' => $post->post_type, 'id' => $post->ID, 'title' => get_the_title($post),
                    'content' => $post->post_content,
                    'rendered' => apply_filters('the_content', $post->post_content),
                    'date_gmt' => $post->post_date_gmt, 'modified_gmt' => $post->post_modified_gmt,
                    'link' => get_permalink($post), 'guid' => get_the_guid($post),
                    'images' => array_values(array_map(fn($a) => wp_get_attachment_url($a->ID),
                                                       get_attached_media('image', $post->ID)))];
    }
    wp_reset_postdata();
    $comments = [];
    foreach (get_comments(['status' => 'all', 'orderby' => 'comment_ID', 'order' => 'ASC']) as $c) {
        $comments[] = ['id' => (int) $c->comment_ID, 'post' => (int) $c->comment_post_ID,
                       'parent' => (int) $c->comment_parent, 'content' => $c->comment_content,
                       'rendered' => apply_filters('comment_text', $c->comment_content, $c, []),
                       'author_name' => $c->comment_author, 'user' => (int) $c->user_id,
                       'date_gmt' => $c->comment_date_gmt, 'status' => wp_get_comment_status($c),
                       'post_status' => get_post_status((int) $c->comment_post_ID)];
    }
    foreach (get_comments(['status' => 'spam']) as $c) {  // 'all' leaves spam out
        $comments[] = ['id' => (int) $c->comment_ID, 'post' => (int) $c->comment_post_ID,
                       'parent' => (int) $c->comment_parent, 'content' => $c->comment_content,
                       'rendered' => '', 'author_name' => $c->comment_author, 'user' => (int) $c->user_id,
                       'date_gmt' => $c->comment_date_gmt, 'status' => 'spam',
                       'post_status' => get_post_status((int) $c->comment_post_ID)];
    }
    return ['items' => $items, 'comments' => $comments, 'version' => get_bloginfo('version'),
            'permalinks' => get_option('permalink_structure'), 'home' => home_url('/')];
}

$results = [];
foreach ($ops as $op) {
    switch ($op['op']) {
    case 'install':
        $done = wp_install($op['title'], 'admin', 'admin@example.invalid', true, '', $op['password']);
        update_option('timezone_string', 'UTC');
        update_option('comment_moderation', '0');
        update_option('comment_previously_approved', '0');
        foreach (get_posts(['post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1]) as $p) {
            wp_delete_post($p->ID, true);  // the sample post, page and privacy page
        }
        foreach (get_comments(['status' => 'all']) as $c) {
            wp_delete_comment($c->comment_ID, true);
        }
        $results[] = ['user' => $done['user_id']];
        break;
    case 'permalinks':
        global $wp_rewrite;
        $wp_rewrite->set_permalink_structure($op['structure']);
        update_option('rewrite_rules', '');
        $wp_rewrite->flush_rules(false);
        $results[] = ['permalinks' => get_option('permalink_structure')];
        break;
    case 'announce':
        update_option('communis_peer_hide_api_link', $op['on'] ? 0 : 1);
        $results[] = ['announce' => (bool) $op['on']];
        break;
    case 'publish':
        $content = $op['text'];
        $image = null;
        if (!empty($op['image_b64'])) {
            [$attachment, $url] = peer_image($op);
            $content .= "\n\n" . '<img src="' . esc_url($url) . '" alt="" class="wp-image-' . $attachment . '">';
            $image = $url;
        }
        $post = ['post_type' => $op['kind'], 'post_status' => 'publish', 'post_author' => 1,
                 'post_title' => $op['title'] ?? '', 'post_content' => $content];
        if (!empty($op['date_gmt'])) {  // an older post (the site's zone is UTC)
            $post['post_date'] = $post['post_date_gmt'] = $op['date_gmt'];
        }
        $id = wp_insert_post($post, true);
        if (is_wp_error($id)) {
            peer_fail('publish: ' . $id->get_error_message());
        }
        if ($image !== null) {
            wp_update_post(['ID' => $attachment, 'post_parent' => $id]);
        }
        $results[] = ['id' => $id, 'image' => $image];
        break;
    case 'edit':
        $change = ['ID' => $op['id']];
        if (isset($op['text'])) {
            $change['post_content'] = $op['text'];
        }
        if (isset($op['title'])) {
            $change['post_title'] = $op['title'];
        }
        $id = wp_update_post($change, true);
        if (is_wp_error($id)) {
            peer_fail('edit: ' . $id->get_error_message());
        }
        $results[] = ['id' => $id];
        break;
    case 'delete':
        $gone = empty($op['trash']) ? wp_delete_post($op['id'], true) : wp_trash_post($op['id']);
        if (!$gone) {
            peer_fail('delete: no post ' . $op['id']);
        }
        $results[] = ['id' => $op['id']];
        break;
    case 'comment':
        $user = (int) ($op['user'] ?? 0);
        $id = wp_insert_comment(['comment_post_ID' => $op['post'], 'comment_parent' => $op['parent'] ?? 0,
                                 'comment_content' => $op['text'], 'comment_author' => $op['author'] ?? 'Medborgare',
                                 'comment_author_email' => 'medborgare@example.invalid', 'user_id' => $user,
                                 'comment_approved' => $op['approved'] ?? 1,
                                 'comment_date_gmt' => $op['date_gmt'] ?? current_time('mysql', true)]);
        if (!$id) {
            peer_fail('comment: not inserted on post ' . $op['post']);
        }
        $results[] = ['id' => $id];
        break;
    case 'moderate':
        $done = $op['status'] === 'delete' ? wp_delete_comment($op['id'], true)
                                            : wp_set_comment_status($op['id'], $op['status']);
        if (!$done || is_wp_error($done)) {
            peer_fail('moderate: comment ' . $op['id'] . ' not set to ' . $op['status']);
        }
        $results[] = ['id' => $op['id']];
        break;
    case 'reset':
        update_option('communis_peer_hide_api_link', 0);
        foreach (get_posts(['post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1]) as $p) {
            wp_delete_post($p->ID, true);
        }
        foreach (get_posts(['post_type' => 'attachment', 'post_status' => 'any', 'numberposts' => -1]) as $p) {
            wp_delete_attachment($p->ID, true);
        }
        foreach (get_comments(['status' => 'all']) as $c) {
            wp_delete_comment($c->comment_ID, true);
        }
        foreach (get_comments(['status' => 'spam']) as $c) {
            wp_delete_comment($c->comment_ID, true);
        }
        $results[] = [];
        break;
    case 'truth':
        $results[] = peer_truth();
        break;
    default:
        peer_fail('unknown operation ' . $op['op']);
    }
}
echo json_encode($results, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
