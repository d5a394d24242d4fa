<?php
/*
 * Router for PHP's built-in server in front of the Debian WordPress (tests/peers/wordpress.py).
 *
 * The document root is the peer's own tree (symbolic links to /usr/share/wordpress, its own
 * wp-config.php and wp-content). Static files are served as they are; a PHP file is run; every
 * other path goes to WordPress's front controller, as Apache's rewrite rules would send it, so
 * pretty permalinks and /wp-json/ answer when the site uses them (unless the peer was told to
 * behave like a server without rewrite rules: then they are 404). ABSPATH is defined here, so
 * that WordPress reads the peer's wp-config.php and not Debian's (which wants /etc/wordpress).
 */
$tree = getenv('COMMUNIS_WP_TREE');
define('ABSPATH', $tree . '/');
$path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH) ?? '/');
$file = $tree . $path;
if ($path !== '/' && is_file($file) && substr($path, -4) !== '.php') {
    return false;
}
if ($path !== '/' && !is_file($file) && is_file($tree . '/.no-rewrite')) {
    /* A web server without rewrite rules (Apache without mod_rewrite, say): what is not a file is 404. */
    http_response_code(404);
    echo "<h1>Not Found</h1>";
    return true;
}
if (substr($path, -4) !== '.php' || !is_file($file)) {
    $path = '/index.php';
    $file = $tree . $path;
}
$_SERVER['SCRIPT_NAME'] = $path;
$_SERVER['PHP_SELF'] = $path;
$_SERVER['SCRIPT_FILENAME'] = $file;
chdir(dirname($file));
require $file;
