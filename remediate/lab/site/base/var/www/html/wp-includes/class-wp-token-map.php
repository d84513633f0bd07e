<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-token-map.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-token-map.php';
