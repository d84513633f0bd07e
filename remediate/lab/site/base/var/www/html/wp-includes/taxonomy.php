<?php
/**
 * WordPress-like lab stub for wp-includes/taxonomy.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'taxonomy.php';

function create_initial_taxonomies( ...$args ) {
	$GLOBALS['wp_lab_actions'][] = __FUNCTION__;
}
