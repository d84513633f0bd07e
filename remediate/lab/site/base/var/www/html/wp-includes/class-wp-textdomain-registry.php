<?php
/**
 * WordPress-like lab stub for wp-includes/class-wp-textdomain-registry.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'class-wp-textdomain-registry.php';
