<?php
/**
 * WordPress-like lab stub for wp-includes/post.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'post.php';

function create_initial_post_types( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}
