<?php
/**
 * Front to the WordPress-like lab application. Loads the configuration and wp-settings.php,
 * then greets; any fatal error on the way answers HTTP 500 (the server runs with display_errors=0).
 *
 * @package WordPress
 */

define( 'WP_USE_THEMES', true );

if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

require_once ABSPATH . 'wp-config.php';
require_once ABSPATH . 'wp-settings.php';

$lab_host = getenv( 'LAB_HOST_NAME' ) ?: gethostname();
header( 'Content-Type: text/plain; charset=UTF-8' );
printf( "Hello from WORDPRESS-LIKE lab host %s: %d files loaded, WordPress %s\n", $lab_host,
	count( $GLOBALS['wp_lab_loaded'] ), $wp_version );
