<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-query.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-query.php';
