<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/shadow.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/shadow.php';
